// The integration tests' main: global library set-up, then GoogleTest.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <csignal>

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a test writing to a closed socket gets EPIPE, not death
  curl_global_init(CURL_GLOBAL_DEFAULT);
  ::testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  curl_global_cleanup();
  return rc;
}
