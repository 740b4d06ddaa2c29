// sluice entry point (placeholder until the server lands).
#include <cstdio>
int main() { std::puts("sluice " SLUICE_VERSION); return 0; }
