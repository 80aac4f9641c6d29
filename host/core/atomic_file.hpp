#pragma once
// A file that appears whole or not at all: written beside its final path under a
// temporary name, renamed into place by commit(). Destroyed without commit(), the
// temporary file is removed and the final path is untouched.
#include <cstdio>
#include <string>
#include <string_view>

namespace onepath {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // throws std::runtime_error naming the path
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes);
  void commit();  // flush, fsync, rename

 private:
  std::string path_, tmp_path_;
  std::FILE* file_ = nullptr;
  int slot_ = -1;  // in the interrupt handler's list of temporary files
};

// Convenience: the whole content at once.
void write_file_atomic(const std::string& path, std::string_view content);

}  // namespace onepath
