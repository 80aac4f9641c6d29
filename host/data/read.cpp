#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.hpp"
#include "data/candle_io.hpp"

namespace onepath {

std::string read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw InputError("cannot open '" + path + "': " + std::strerror(errno));
  std::string content;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) content.append(buf, n);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) throw InputError("cannot read '" + path + "'");
  return content;
}

std::string symbol_from_path(std::string_view path) {
  auto slash = path.find_last_of('/');
  if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
  auto dot = path.find('.');
  return std::string(path.substr(0, dot));
}

CandleFile read_candles(const std::string& path) {
  std::string text = read_file(path);
  bool json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  CandleFile file = json ? parse_json(text, path) : parse_csv(text, path);
  file.series.symbol = symbol_from_path(path);
  return file;
}

}  // namespace onepath
