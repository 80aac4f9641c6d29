#pragma once
// Fixed-size windows shared by the indicators: a ring of the last n values, a rolling
// maximum or minimum (monotonic deque), and an order-statistic tree for exact rolling
// quantiles and ranks. All storage is allocated at construction; updates never allocate.
#include <cstdint>
#include <vector>

#include "core/error.hpp"

namespace onepath {

class Ring {
 public:
  explicit Ring(std::size_t capacity) : buf_(capacity, 0.0) {}

  // Adds x and returns the value it pushed out, or 0 while the ring is filling.
  double push(double x) {
    double old = buf_[head_];
    buf_[head_] = x;
    if (++head_ == buf_.size()) head_ = 0;
    size_ += size_ < buf_.size();
    return old;
  }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return buf_.size(); }
  bool full() const { return size_ == buf_.size(); }
  // True right after the write position wrapped: a moment to resum a running total.
  bool wrapped() const { return head_ == 0; }
  // The i-th value, 0 the oldest.
  double at(std::size_t i) const {
    std::size_t k = head_ + buf_.size() - size_ + i;
    return buf_[k >= buf_.size() ? k - buf_.size() : k];
  }
  double newest() const { return at(size_ - 1); }
  // The storage in slot order (not time order), for reductions whose order is free; slots
  // not filled yet hold 0.
  const double* slots() const { return buf_.data(); }
  // The exact sum of the window: running totals are reset to it on every wrap so that
  // rounding never accumulates past one window.
  double sum() const { return sum_of_slots(buf_.size()); }
  // The sum of slots [0, k) in slot order, from 0: what BlockSum accumulates.
  double sum_of_slots(std::size_t k) const {
    double s = 0;
    for (std::size_t i = 0; i < k; ++i) s += buf_[i];
    return s;
  }
  std::size_t head() const { return head_; }
  double oldest() const { return at(0); }
  std::size_t heap_bytes() const { return buf_.capacity() * sizeof(double); }

  template <class A>
  void fields(A& ar) {
    std::size_t capacity = buf_.size();
    ar.all(buf_, head_, size_);
    if (buf_.size() != capacity || head_ >= capacity || size_ > capacity) throw InputError("state is corrupt: window size");
  }

 private:
  std::vector<double> buf_;
  std::size_t head_ = 0, size_ = 0;
};

// A sum over the last n values that is reset to the window's exact sum on every wrap of
// its ring. That sum (slots 0..n-1 added in order, from 0) is accumulated as the block's
// values arrive, one addition per push off the critical path, instead of a serial loop at
// the wrap: the same additions in the same order, so the same bits.
class RollingSum {
 public:
  explicit RollingSum(std::size_t n) : ring_(n) {}
  void push(double x) {
    sum_ += x - ring_.push(x);
    block_ += x;
    if (ring_.wrapped()) sum_ = block_, block_ = 0;
  }
  double sum() const { return sum_; }
  bool full() const { return ring_.full(); }
  std::size_t heap_bytes() const { return ring_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(sum_, ring_);  // the saved form stays as it was: the block's sum is rebuilt
    if constexpr (A::is_loading) block_ = ring_.sum_of_slots(ring_.head());
  }

 private:
  Ring ring_;
  double sum_ = 0, block_ = 0;
};

// The maximum (kMax) or minimum of the last n values, O(1) amortised with no
// data-dependent branch (van Herk / Gil-Werman): the stream is cut into blocks of n; the
// window ending at a row is the tail of the previous block, whose suffix extremes are
// computed once when that block completes, plus the head of the current block, whose
// running prefix extreme is kept.
template <bool kMax>
class RollingExtreme {
 public:
  explicit RollingExtreme(std::size_t n) : block_(n), suffix_(n) {}

  // The block's end (once per n values) is out of line, so that the rest inlines.
  void push(double x) {
    prefix_ = pos_ == 0 ? x : pick(prefix_, x);
    block_[pos_] = x;
    if (pos_ + 1 == block_.size()) [[unlikely]] {
      complete_block();
    } else {
      value_ = pick(suffix_[pos_ + 1], prefix_);
      ++pos_;
    }
  }
  double value() const { return value_; }
  std::size_t heap_bytes() const { return 2 * block_.size() * sizeof(double); }

  template <class A>
  void fields(A& ar) {
    std::size_t n = block_.size();
    ar.all(block_, suffix_, prefix_, value_, pos_);
    if (block_.size() != n || suffix_.size() != n || pos_ >= n) throw InputError("state is corrupt: extreme window");
  }

 private:
  static double pick(double a, double b) { return kMax ? (a > b ? a : b) : (a < b ? a : b); }
  // The window is exactly this block; its suffix extremes serve the next block's rows.
  [[gnu::noinline, gnu::cold]] void complete_block() {
    value_ = prefix_;
    double run = block_[pos_];
    for (std::size_t m = pos_ + 1; m-- > 0;) suffix_[m] = run = pick(block_[m], run);
    pos_ = 0;
  }
  std::vector<double> block_, suffix_;  // the current block; suffix extremes of the previous one
  double prefix_ = 0, value_ = 0;
  std::size_t pos_ = 0;
};

// The highest high and the lowest low of the last n candles: the state stoch, willr and
// donchian of one period share (twins, see Indicator::twin_key).
struct HighLowWindow {
  explicit HighLowWindow(std::size_t n) : hh(n), ll(n) {}
  void push(double high, double low) {
    hh.push(high);
    ll.push(low);
  }
  std::size_t heap_bytes() const { return hh.heap_bytes() + ll.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(hh, ll);
  }
  RollingExtreme<true> hh;
  RollingExtreme<false> ll;
};

// A treap over (value, sequence) keys in a fixed pool: insert, erase, k-th smallest and
// rank queries in O(log n) expected. The shape depends only on the keys (priorities are a
// hash of the sequence number), so rebuilding from the same window gives the same tree.
class OrderStatisticTree {
 public:
  explicit OrderStatisticTree(std::size_t capacity);
  void clear();
  void insert(double value, std::int64_t seq);
  void erase(double value, std::int64_t seq);
  std::size_t size() const { return root_ < 0 ? 0 : nodes_[root_].size; }
  double kth(std::size_t k) const;         // 0-based, k < size()
  std::size_t count_less(double x) const;  // values strictly below x
  std::size_t count_less_equal(double x) const;
  std::size_t heap_bytes() const { return nodes_.capacity() * sizeof(Node) + free_.capacity() * sizeof(int); }

 private:
  struct Node {
    double value;
    std::int64_t seq;
    std::uint64_t priority;
    int left, right;
    std::uint32_t size;
  };
  static bool less(double v1, std::int64_t s1, double v2, std::int64_t s2) { return v1 < v2 || (v1 == v2 && s1 < s2); }
  std::uint32_t size_of(int n) const { return n < 0 ? 0 : nodes_[n].size; }
  void fix(int n) { nodes_[n].size = 1 + size_of(nodes_[n].left) + size_of(nodes_[n].right); }
  void split(int t, double value, std::int64_t seq, int& l, int& r);  // l: keys < (value, seq)
  int merge(int l, int r);

  std::vector<Node> nodes_;
  std::vector<int> free_;
  int root_ = -1;
};

}  // namespace onepath
