#include "keel/client/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>

namespace keel::client {
namespace {

struct easy_deleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct slist_deleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

void global_init() {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)init;
}

struct reply_state {
  std::size_t limit = 0;
  std::size_t bytes = 0;
  bool cut = false;
  std::optional<std::chrono::seconds> retry_after{};
};

// The body is not kept; past the limit the transfer is aborted, so a
// hostile peer cannot make us read without bound.
std::size_t on_body(char*, std::size_t size, std::size_t n, void* user) {
  auto* st = static_cast<reply_state*>(user);
  st->bytes += size * n;
  if (st->bytes <= st->limit) return size * n;
  st->cut = true;
  return 0;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* st = static_cast<reply_state*>(user);
  const std::string_view line(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() <= kName.size()) return size * n;
  for (std::size_t i = 0; i < kName.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) return size * n;
  }
  auto v = line.substr(kName.size());
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  long long secs = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (ec == std::errc() && secs >= 0 && secs < 86'400 * 7)
    st->retry_after = std::chrono::seconds(secs);
  return size * n;
}

struct upload_state {
  std::string_view data;
  std::size_t pos = 0;
};

std::size_t on_upload(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* st = static_cast<upload_state*>(user);
  const std::size_t k = std::min(size * n, st->data.size() - st->pos);
  std::memcpy(buf, st->data.data() + st->pos, k);
  st->pos += k;
  return k;
}

class header_list {
 public:
  void add(const std::string& s) {
    curl_slist* next = curl_slist_append(list_.get(), s.c_str());
    if (next != nullptr) {
      (void)list_.release();
      list_.reset(next);
    }
  }
  curl_slist* get() const noexcept { return list_.get(); }

 private:
  std::unique_ptr<curl_slist, slist_deleter> list_;
};

long ms(std::chrono::milliseconds d) {
  return static_cast<long>(std::max<std::int64_t>(1, d.count()));
}

response finish(CURL* h, CURLcode rc, const reply_state& st) {
  response out;
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  out.retry_after = st.retry_after;
  out.status = static_cast<int>(code);
  // Cut off by our own limit: the peer answered, the rest is not needed.
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && st.cut && code > 0)) return out;
  out.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
  out.error = curl_easy_strerror(rc);
  // A failed transfer with an error code (an SMTP relay refusing, an HTTP
  // 503 cut short) still gave a verdict; with any other code it gave none.
  if (out.status < 400) out.status = 0;
  return out;
}

}  // namespace

response send(const http_request& r) {
  global_init();
  std::unique_ptr<CURL, easy_deleter> c(curl_easy_init());
  if (!c) return {.error = "libcurl: cannot create a handle"};
  CURL* h = c.get();
  reply_state st{.limit = r.max_response_bytes};
  header_list headers;
  curl_easy_setopt(h, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms(r.timeout));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms(std::min(r.timeout, r.connect_timeout)));
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, r.user_agent.c_str());
  if (r.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    headers.add("Expect:");  // no 100-continue round trip
  }
  for (const auto& line : r.headers)
    headers.add(line);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &st);
  return finish(h, curl_easy_perform(h), st);
}

response send(const mail_request& r) {
  global_init();
  std::unique_ptr<CURL, easy_deleter> c(curl_easy_init());
  if (!c) return {.error = "libcurl: cannot create a handle"};
  CURL* h = c.get();
  reply_state st{.limit = 64 * 1024};
  header_list rcpt;
  upload_state up{r.message, 0};
  const long total = ms(r.timeout);
  curl_easy_setopt(h, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, std::min(total, 5000L));
  // Each SMTP reply, and the QUIT libcurl still sends when the handle is
  // cleaned up after a timeout, waits at most this long (its default is
  // 120 s: a hung relay would hold the caller two minutes past its timeout).
  curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, std::max(1L, (total + 999) / 1000));
  const std::string from = "<" + r.from + ">";
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
  for (const auto& to : r.to)
    rcpt.add("<" + to + ">");
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
  if (!r.user.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, r.user.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, r.password.c_str());
    curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  }
  curl_easy_setopt(h, CURLOPT_READFUNCTION, on_upload);
  curl_easy_setopt(h, CURLOPT_READDATA, &up);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  return finish(h, curl_easy_perform(h), st);
}

}  // namespace keel::client
