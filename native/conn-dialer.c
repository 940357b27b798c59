/*
 * conn-dialer: the connection maker of `culex bench conn` over plain TCP, in C so that the generator costs a small
 * part of what the broker spends per connection. A Node client socket costs about 200 us of CPU per connection on a
 * small machine, more than a broker does to accept it; this costs what the kernel needs for the handshake (about
 * 40 us), so the measured connect rate is the broker's.
 *
 * Started by a bench worker (src/bench/native-dialer.ts), one per worker:
 *
 *   conn-dialer HOST PORT FIRST COUNT CONCURRENCY INTERVAL_NS TIMEOUT_MS CLIENT_PREFIX [SOURCE,SOURCE...]
 *
 * It opens connections FIRST..FIRST+COUNT-1, at most CONCURRENCY waiting for their CONNACK at once, started no faster
 * than one per INTERVAL_NS when it is above 0, each from SOURCE[i % n] when sources are given. Per connection: a
 * socket with TCP_NODELAY, an MQTT 3.1.1 CONNECT (clean session, keep alive 0, client id CLIENT_PREFIX-conn<i>), and
 * a check of the 4-byte CONNACK: 0x20 0x02 <session present> <return code> [MQTT-3.2.2-1]. Anything else, a return
 * code other than 0, an error or no CONNACK within TIMEOUT_MS fails the connection.
 *
 * HOST is best given as a numeric address (the Node side resolves names the way Node would); a name is resolved
 * here to its first address.
 *
 * It writes lines to stdout (each batch flushed at once, so a drop is seen when it happens):
 *   P <connected> <failed> <dropped> <cpu_us>   progress, at most every 100 ms while something changes
 *   F <index> <reason>                          a connection that failed
 *   X <index> <reason>                          an established connection the broker or the network closed
 *   D <connected> <failed> <dropped> <cpu_us>   every connection has connected or failed
 * and then holds the open connections until its stdin closes: then it sends DISCONNECT on each, closes them, writes
 * a last P line and exits 0. Bad arguments or a failure of its own (no memory, no epoll) exit 2 with a message on
 * stderr. It is C that also compiles as C++.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum State { IDLE = 0, DIALING, WAITING, OPEN, DONE };

struct Conn {
  int fd;
  unsigned char state;
  unsigned char got;
  unsigned char head[4];
  int64_t deadline_ns;
};

/* epoll data for the stdin watch; connections use their index, which is below COUNT. */
#define STDIN_TAG UINT32_MAX
#define PROGRESS_NS 100000000LL
#define SWEEP_NS 50000000LL

static struct Conn *conns;
static long first_index, count, concurrency;
static int64_t interval_ns, timeout_ns;
static const char *client_prefix;
static struct sockaddr_storage broker;
static socklen_t broker_len;
static struct sockaddr_storage *sources;
static socklen_t *source_lens;
static long source_count;
static int ep;
static long connected, failed, dropped, settled, started, waiting;
static int changed;
/* Lines written since the last flush. */
static int unflushed;

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("conn-dialer: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static long parse_long(const char *text, const char *name, long min) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || end == text || v < min) die("%s must be an integer >= %ld, got '%s'", name, min, text);
  return v;
}

static void resolve(const char *host, const char *port, int flags, struct sockaddr_storage *out, socklen_t *len) {
  struct addrinfo hints;
  struct addrinfo *res;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) die("cannot resolve '%s': %s", host, gai_strerror(rc));
  memcpy(out, res->ai_addr, res->ai_addrlen);
  *len = (socklen_t)res->ai_addrlen;
  freeaddrinfo(res);
}

static void report(char kind) {
  printf("%c %ld %ld %ld %lld\n", kind, connected, failed, dropped, cpu_us());
  fflush(stdout);
  changed = 0;
}

static void unwatch_close(struct Conn *c) {
  if (c->fd >= 0) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
  }
}

static void fail(long i, const char *reason) {
  struct Conn *c = &conns[i];
  unwatch_close(c);
  c->state = DONE;
  failed++;
  settled++;
  waiting--;
  changed = 1;
  unflushed = 1;
  printf("F %ld %s\n", first_index + i, reason);
}

static void fail_errno(long i, int err) {
  char reason[96];
  snprintf(reason, sizeof reason, "%s", strerror(err));
  fail(i, reason);
}

static void start(long i) {
  struct Conn *c = &conns[i];
  const struct sockaddr_storage *src = source_count > 0 ? &sources[i % source_count] : NULL;
  int fd = socket(broker.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  c->state = DIALING;
  c->fd = -1;
  c->deadline_ns = now_ns() + timeout_ns;
  started++;
  waiting++;
  if (fd < 0) {
    fail_errno(i, errno);
    return;
  }
  c->fd = fd;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (src != NULL) {
    /* Let connect() pick the port against the whole 4-tuple, so many sources share the ephemeral range. */
#ifdef IP_BIND_ADDRESS_NO_PORT
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
    if (bind(fd, (const struct sockaddr *)src, source_lens[i % source_count]) != 0) {
      fail_errno(i, errno);
      return;
    }
  }
  if (connect(fd, (const struct sockaddr *)&broker, broker_len) != 0 && errno != EINPROGRESS) {
    fail_errno(i, errno);
    return;
  }
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
  ev.data.u32 = (uint32_t)i;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) fail_errno(i, errno);
}

static void send_connect(long i) {
  struct Conn *c = &conns[i];
  char id[200];
  int id_len = snprintf(id, sizeof id, "%s-conn%ld", client_prefix, first_index + i);
  if (id_len < 0 || id_len >= (int)sizeof id) {
    fail(i, "client id too long");
    return;
  }
  /* Fixed header, variable header (protocol name "MQTT", level 4, flags: clean session, keep alive 0), client id. */
  unsigned char packet[16 + sizeof id];
  int remaining = 10 + 2 + id_len;
  int n = 0;
  packet[n++] = 0x10;
  if (remaining >= 128) packet[n++] = (unsigned char)(0x80 | (remaining & 0x7f)); /* below 16384: two bytes at most */
  packet[n++] = (unsigned char)(remaining >= 128 ? remaining >> 7 : remaining);
  packet[n++] = 0;
  packet[n++] = 4;
  memcpy(packet + n, "MQTT", 4);
  n += 4;
  packet[n++] = 4;
  packet[n++] = 0x02;
  packet[n++] = 0;
  packet[n++] = 0;
  packet[n++] = (unsigned char)(id_len >> 8);
  packet[n++] = (unsigned char)(id_len & 0xff);
  memcpy(packet + n, id, (size_t)id_len);
  n += id_len;
  ssize_t w = send(c->fd, packet, (size_t)n, MSG_NOSIGNAL);
  if (w != n) {
    if (w < 0) fail_errno(i, errno);
    else fail(i, "short write of CONNECT");
    return;
  }
  c->state = WAITING;
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u32 = (uint32_t)i;
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) fail_errno(i, errno);
}

static void on_readable(long i) {
  struct Conn *c = &conns[i];
  unsigned char buf[256];
  for (;;) {
    ssize_t r = recv(c->fd, buf, sizeof buf, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      int err = r < 0 ? errno : 0;
      if (c->state == OPEN) {
        unwatch_close(c);
        c->state = DONE;
        dropped++;
        changed = 1;
        unflushed = 1;
        if (err != 0) printf("X %ld %s\n", first_index + i, strerror(err));
        else printf("X %ld closed by peer\n", first_index + i);
      } else if (err != 0) {
        fail_errno(i, err);
      } else {
        fail(i, "closed by peer");
      }
      return;
    }
    if (c->state != WAITING) continue; /* an open connection: the broker has nothing to say; drain and ignore */
    for (ssize_t k = 0; k < r && c->got < 4; k++) c->head[c->got++] = buf[k];
    if (c->got < 4) continue;
    if (c->head[0] != 0x20 || c->head[1] != 0x02) {
      char reason[64];
      snprintf(reason, sizeof reason, "expected CONNACK, got %02x%02x%02x%02x", c->head[0], c->head[1], c->head[2], c->head[3]);
      fail(i, reason);
      return;
    }
    if (c->head[3] != 0) {
      char reason[64];
      snprintf(reason, sizeof reason, "CONNACK refused with code %d", c->head[3]);
      fail(i, reason);
      return;
    }
    c->state = OPEN;
    connected++;
    settled++;
    waiting--;
    changed = 1;
  }
}

static void on_event(uint32_t tag, uint32_t events) {
  long i = (long)tag;
  struct Conn *c = &conns[i];
  if (c->state == DIALING) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      fail_errno(i, err);
      return;
    }
    if (events & EPOLLOUT) send_connect(i);
    if (c->state == WAITING && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) on_readable(i);
    return;
  }
  if (c->state == WAITING || c->state == OPEN) on_readable(i);
}

/* Fails every connection whose CONNACK is overdue. Deadlines grow with the start order, so scan from the oldest. */
static long oldest;
static void sweep(int64_t now) {
  while (oldest < started && (conns[oldest].state == DONE || conns[oldest].state == OPEN)) oldest++;
  for (long i = oldest; i < started; i++) {
    struct Conn *c = &conns[i];
    if (c->state != DIALING && c->state != WAITING) continue;
    if (c->deadline_ns > now) break;
    char reason[64];
    snprintf(reason, sizeof reason, "no CONNACK within %lld ms", (long long)(timeout_ns / 1000000));
    fail(i, reason);
  }
}

static void close_all(void) {
  static const unsigned char disconnect[2] = {0xe0, 0x00};
  for (long i = 0; i < count; i++) {
    struct Conn *c = &conns[i];
    if (c->fd < 0) continue;
    if (c->state == OPEN) {
      send(c->fd, disconnect, sizeof disconnect, MSG_NOSIGNAL);
      shutdown(c->fd, SHUT_WR);
    }
    close(c->fd);
    c->fd = -1;
  }
}

int main(int argc, char **argv) {
  if (argc < 9 || argc > 10) {
    die("usage: conn-dialer HOST PORT FIRST COUNT CONCURRENCY INTERVAL_NS TIMEOUT_MS CLIENT_PREFIX [SOURCE,SOURCE...]");
  }
  parse_long(argv[2], "PORT", 1);
  resolve(argv[1], argv[2], 0, &broker, &broker_len);
  first_index = parse_long(argv[3], "FIRST", 0);
  count = parse_long(argv[4], "COUNT", 0);
  concurrency = parse_long(argv[5], "CONCURRENCY", 1);
  interval_ns = (int64_t)parse_long(argv[6], "INTERVAL_NS", 0);
  timeout_ns = (int64_t)parse_long(argv[7], "TIMEOUT_MS", 1) * 1000000;
  client_prefix = argv[8];
  if (argc == 10 && argv[9][0] != '\0') {
    char *list = strdup(argv[9]);
    if (list == NULL) die("out of memory");
    long n = 1;
    for (char *p = list; *p; p++) n += *p == ',';
    sources = (struct sockaddr_storage *)calloc((size_t)n, sizeof *sources);
    source_lens = (socklen_t *)calloc((size_t)n, sizeof *source_lens);
    if (sources == NULL || source_lens == NULL) die("out of memory");
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
      resolve(tok, "0", AI_NUMERICHOST | AI_PASSIVE, &sources[source_count], &source_lens[source_count]);
      if (sources[source_count].ss_family != broker.ss_family) die("source address %s is not of the broker's family", tok);
      source_count++;
    }
    free(list);
  }
  signal(SIGPIPE, SIG_IGN);
  conns = (struct Conn *)calloc((size_t)(count > 0 ? count : 1), sizeof *conns);
  if (conns == NULL) die("out of memory for %ld connections", count);
  for (long i = 0; i < count; i++) conns[i].fd = -1;
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1: %s", strerror(errno));
  struct epoll_event stdin_ev;
  memset(&stdin_ev, 0, sizeof stdin_ev);
  stdin_ev.events = EPOLLIN | EPOLLRDHUP;
  stdin_ev.data.u32 = STDIN_TAG;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &stdin_ev) != 0) die("cannot watch stdin: %s", strerror(errno));

  struct epoll_event events[512];
  const int64_t t0 = now_ns();
  int64_t last_progress = t0;
  int64_t last_sweep = t0;
  int is_done_reported = 0;
  for (;;) {
    int64_t now = now_ns();
    int wait_ms = 100;
    while (started < count && waiting < concurrency) {
      int64_t due = t0 + interval_ns * started;
      if (interval_ns > 0 && due > now) {
        int64_t ms = (due - now + 999999) / 1000000;
        if (ms < wait_ms) wait_ms = (int)ms;
        break;
      }
      start(started);
      if (interval_ns > 0) now = now_ns();
    }
    if (!is_done_reported && settled == count) {
      report('D');
      is_done_reported = 1;
    }
    int n = epoll_wait(ep, events, (int)(sizeof events / sizeof events[0]), wait_ms);
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
    for (int k = 0; k < n; k++) {
      if (events[k].data.u32 == STDIN_TAG) {
        char buf[64];
        ssize_t r = read(0, buf, sizeof buf);
        if (r <= 0) {
          close_all();
          report('P');
          return 0;
        }
        continue;
      }
      on_event(events[k].data.u32, events[k].events);
    }
    now = now_ns();
    if (now - last_sweep >= SWEEP_NS) {
      sweep(now);
      last_sweep = now;
    }
    if (changed && now - last_progress >= PROGRESS_NS) {
      report('P');
      last_progress = now;
    } else if (unflushed) {
      fflush(stdout);
    }
    unflushed = 0;
  }
}
