#pragma once
// Large buffers that are about to be filled (a million candles' columns) ask for 2 MB
// pages: on this kind of VM a fresh 4 KB page costs 14-18 us to fault in, a 2 MB one about
// as much for 512 times the memory. Only a hint (transparent huge pages in "madvise" mode);
// a no-op for small buffers and where the kernel says no.
#include <cstddef>

namespace onepath {

void prefer_huge_pages(const void* data, std::size_t bytes);

template <class Vector>
void reserve_huge(Vector& v, std::size_t n) {
  v.reserve(n);
  prefer_huge_pages(v.data(), v.capacity() * sizeof(typename Vector::value_type));
}

}  // namespace onepath
