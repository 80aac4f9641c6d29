#include "net/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace onepath {
namespace {

constexpr std::size_t kMaxReply = 1u << 20;  // a session's answers are small; more is not one of them

struct Address {
  sockaddr_storage addr{};
  socklen_t size = 0;
  bool loopback = false;
};

// "http://127.0.0.1:8080", "http://[::1]:8080" or "http://localhost:8080".
Address parse(const std::string& url, std::string& host_header) {
  const std::string prefix = "http://";
  if (!url.starts_with(prefix)) throw std::runtime_error("not an http://HOST:PORT address: " + url);
  const std::string rest = url.substr(prefix.size());
  std::string host, port;
  if (rest.starts_with("[")) {
    const auto close = rest.find("]:");
    if (close == std::string::npos) throw std::runtime_error("not an http://[IPv6]:PORT address: " + url);
    host = rest.substr(1, close - 1), port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("not an http://HOST:PORT address: " + url);
    host = rest.substr(0, colon), port = rest.substr(colon + 1);
  }
  const int p = std::atoi(port.c_str());
  if (p <= 0 || p > 65535) throw std::runtime_error("no port in " + url);
  Address a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.addr);
  if (::inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET, v4->sin_port = htons(static_cast<std::uint16_t>(p)), a.size = sizeof(sockaddr_in);
    a.loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    host_header = host + ":" + port;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6, v6->sin6_port = htons(static_cast<std::uint16_t>(p)), a.size = sizeof(sockaddr_in6);
    a.loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
    host_header = "[" + host + "]:" + port;
  } else {
    throw std::runtime_error("not an IP address: " + host);
  }
  return a;
}

}  // namespace

HttpReply http_request(const std::string& url, const std::string& method, const std::string& target, const std::string& token,
                       const HttpClientOptions& options) {
  std::string host_header;
  const Address a = parse(url, host_header);
  if (!a.loopback && !options.allow_remote)
    throw std::runtime_error(url + " is not on this machine (loopback); a session elsewhere needs --remote");
  const int fd = ::socket(a.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  timeval tv{options.timeout_ms / 1000, static_cast<suseconds_t>(options.timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // also bounds connect() on Linux
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.size) != 0) {
    const int why = errno;
    ::close(fd);
    if (why == ECONNREFUSED) throw HttpRefused("nothing listens at " + url);
    throw std::runtime_error("cannot connect to " + url + ": " + std::strerror(why));
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_header + "\r\nConnection: close\r\nContent-Length: 0\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  req += "\r\n";
  for (std::size_t done = 0; done < req.size();) {
    const ssize_t n = ::send(fd, req.data() + done, req.size() - done, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("cannot send to " + url);
    }
    done += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
    raw.append(buf, static_cast<std::size_t>(n));
    if (raw.size() > kMaxReply) break;
  }
  const int recv_errno = errno;
  ::close(fd);
  if (raw.size() > kMaxReply) throw std::runtime_error(url + " answered more than 1 MB; not a onepath session");
  if (n < 0 && raw.empty())
    throw std::runtime_error(url + " did not answer within " + std::to_string(options.timeout_ms) + " ms (" + std::strerror(recv_errno) + ")");
  HttpReply r;
  if (raw.size() > 12 && raw.starts_with("HTTP/")) r.status = std::atoi(raw.c_str() + 9);
  const auto body = raw.find("\r\n\r\n");
  if (body != std::string::npos) r.body = raw.substr(body + 4);
  return r;
}

}  // namespace onepath
