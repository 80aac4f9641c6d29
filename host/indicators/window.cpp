#include "indicators/window.hpp"

#include "core/rng.hpp"

namespace onepath {

OrderStatisticTree::OrderStatisticTree(std::size_t capacity) : nodes_(capacity) { clear(); }

void OrderStatisticTree::clear() {
  free_.clear();
  free_.reserve(nodes_.size());
  for (std::size_t i = nodes_.size(); i-- > 0;) free_.push_back(static_cast<int>(i));
  root_ = -1;
}

void OrderStatisticTree::split(int t, double value, std::int64_t seq, int& l, int& r) {
  if (t < 0) {
    l = r = -1;
    return;
  }
  Node& n = nodes_[t];
  if (less(n.value, n.seq, value, seq)) {
    split(n.right, value, seq, n.right, r);
    l = t;
  } else {
    split(n.left, value, seq, l, n.left);
    r = t;
  }
  fix(t);
}

int OrderStatisticTree::merge(int l, int r) {
  if (l < 0) return r;
  if (r < 0) return l;
  if (nodes_[l].priority > nodes_[r].priority) {
    nodes_[l].right = merge(nodes_[l].right, r);
    fix(l);
    return l;
  }
  nodes_[r].left = merge(l, nodes_[r].left);
  fix(r);
  return r;
}

void OrderStatisticTree::insert(double value, std::int64_t seq) {
  if (free_.empty()) throw std::logic_error("order-statistic tree is full");
  int id = free_.back();
  free_.pop_back();
  std::uint64_t h = static_cast<std::uint64_t>(seq);
  nodes_[id] = {value, seq, splitmix64(h), -1, -1, 1};
  int l, r;
  split(root_, value, seq, l, r);
  root_ = merge(merge(l, id), r);
}

void OrderStatisticTree::erase(double value, std::int64_t seq) {
  int l, mid, r;
  split(root_, value, seq, l, r);    // r starts with (value, seq)
  split(r, value, seq + 1, mid, r);  // mid: exactly (value, seq)
  if (mid >= 0) free_.push_back(mid);
  root_ = merge(l, r);
}

double OrderStatisticTree::kth(std::size_t k) const {
  int t = root_;
  for (;;) {
    std::size_t ls = size_of(nodes_[t].left);
    if (k < ls) {
      t = nodes_[t].left;
    } else if (k == ls) {
      return nodes_[t].value;
    } else {
      k -= ls + 1;
      t = nodes_[t].right;
    }
  }
}

std::size_t OrderStatisticTree::count_less(double x) const {
  std::size_t n = 0;
  for (int t = root_; t >= 0;) {
    if (nodes_[t].value < x) {
      n += size_of(nodes_[t].left) + 1;
      t = nodes_[t].right;
    } else {
      t = nodes_[t].left;
    }
  }
  return n;
}

std::size_t OrderStatisticTree::count_less_equal(double x) const {
  std::size_t n = 0;
  for (int t = root_; t >= 0;) {
    if (nodes_[t].value <= x) {
      n += size_of(nodes_[t].left) + 1;
      t = nodes_[t].right;
    } else {
      t = nodes_[t].left;
    }
  }
  return n;
}

}  // namespace onepath
