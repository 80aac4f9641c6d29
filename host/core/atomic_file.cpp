#include "core/atomic_file.hpp"

#include <utility>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "core/interrupt.hpp"

namespace onepath {
namespace {
std::string errno_text() { return std::strerror(errno); }
}  // namespace

AtomicFile::AtomicFile(std::string path)
    : path_(std::move(path)), tmp_path_(path_ + ".tmp." + std::to_string(::getpid())) {
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  if (!file_) throw std::runtime_error("cannot write '" + path_ + "': " + errno_text());
  slot_ = register_temporary_file(tmp_path_.c_str());  // an interrupt removes it
}

AtomicFile::~AtomicFile() {
  unregister_temporary_file(slot_);
  if (file_) {
    std::fclose(file_);
    std::remove(tmp_path_.c_str());
  }
}

void AtomicFile::write(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
    throw std::runtime_error("cannot write '" + path_ + "': " + errno_text());
}

void AtomicFile::commit() {
  bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  ok = (std::fclose(file_) == 0) && ok;
  file_ = nullptr;
  unregister_temporary_file(std::exchange(slot_, -1));
  if (!ok || std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    std::string why = errno_text();
    std::remove(tmp_path_.c_str());
    throw std::runtime_error("cannot write '" + path_ + "': " + why);
  }
}

void write_file_atomic(const std::string& path, std::string_view content) {
  AtomicFile f(path);
  f.write(content);
  f.commit();
}

}  // namespace onepath
