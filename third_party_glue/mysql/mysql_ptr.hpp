// Owning pointers for the MariaDB Connector/C objects that are freed by one
// synchronous call (STYLE 3.3): a result set, a prepared statement, and — only
// as the last-resort fallback — a whole MYSQL handle. The normal way to close a
// connection is MysqlConnection::Close (mysql_close_start/_cont on the loop);
// MysqlPtr's deleter is the blocking mysql_close, used only when an object is
// torn down without that (see mysql_async.hpp, "Rules").
#pragma once

#include <mysql.h>

#include <memory>

namespace sluice::glue {
namespace mysql_detail {

/// Calls `Fn(p)` for a non-null pointer; the return value (if any) is dropped.
/// Kept in its own namespace so other glue headers can define their own.
template <auto Fn>
struct CDeleter {
  template <class T>
  void operator()(T* p) const noexcept {
    if (p != nullptr) Fn(p);
  }
};

}  // namespace mysql_detail

/// A buffered or streaming result set (mysql_free_result). Caution: freeing a
/// *streaming* (mysql_use_result) result that still has rows reads them with
/// blocking I/O; drain it with mysql_fetch_row_start/_cont first.
using MysqlResPtr = std::unique_ptr<MYSQL_RES, mysql_detail::CDeleter<mysql_free_result>>;
/// A prepared statement (mysql_stmt_close).
using MysqlStmtPtr = std::unique_ptr<MYSQL_STMT, mysql_detail::CDeleter<mysql_stmt_close>>;
/// A connection handle (mysql_close). The fallback only: it sends COM_QUIT
/// synchronously when the connection is still up.
using MysqlPtr = std::unique_ptr<MYSQL, mysql_detail::CDeleter<mysql_close>>;

}  // namespace sluice::glue
