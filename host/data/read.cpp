#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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
  // A regular file is read in one piece into a buffer of its size: growing a string 64 KB
  // at a time copied a 56 MB file about twice over and faulted in every page twice.
  struct stat st {};
  if (::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    content.resize(static_cast<std::size_t>(st.st_size));
    content.resize(std::fread(content.data(), 1, content.size(), f));
  }
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) content.append(buf, n);  // a pipe, or a file that grew
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

namespace {

// A regular file mapped read-only: the parser reads the page cache itself, with no copy
// into a buffer that first has to be zeroed and faulted in (for 56 MB of candles, half
// the time of data check went there). Empty when the file cannot be mapped (a pipe).
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        data_ = static_cast<const char*>(p), size_ = static_cast<std::size_t>(st.st_size);
        ::madvise(p, size_, MADV_SEQUENTIAL);
      }
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  bool mapped() const { return data_ != nullptr; }
  std::string_view text() const { return {data_, size_}; }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace

CandleFile read_candles(const std::string& path) {
  MappedFile mapped(path);
  std::string read;  // what could not be mapped
  if (!mapped.mapped()) read = read_file(path);
  const std::string_view text = mapped.mapped() ? mapped.text() : std::string_view(read);
  bool json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  CandleFile file = json ? parse_json(text, path) : parse_csv(text, path);
  file.series.symbol = symbol_from_path(path);
  return file;
}

}  // namespace onepath
