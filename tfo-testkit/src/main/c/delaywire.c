/*
 * delaywire: a wire with a fixed one-way delay between two network namespaces, without netem.
 *
 * It opens one TUN device (IFF_TUN | IFF_NO_PI) in each of two namespaces (setns(2) into
 * /run/netns/NAME, then /dev/net/tun + TUNSETIFF), and relays every IP packet read from one device to
 * the other DELAY after reading it. The delay is the same for every packet, so each direction is a FIFO
 * whose due times only grow (equivalent to a heap of due times); the relay sleeps in ppoll(2) until the
 * earliest due time, with nanosecond timeouts.
 *
 * Addresses and routes are NOT configured here: the caller (dev.tfo.testkit.DelayWire) runs `ip` in each
 * namespace once this program has printed its "ready" line. The devices are not persistent: they vanish
 * when this process exits (it exits on SIGTERM/SIGINT or at EOF on stdin).
 *
 * Usage: delaywire --ns-a NAME --ns-b NAME [--ifname dw0] [--delay-us N] [--drop-syn-data] [--rt]
 *                  [--spin-us N]
 *   --delay-us N      one-way delay in microseconds (both directions), default 10000
 *   --drop-syn-data   drop TCP SYNs (without ACK) that carry payload, IPv4 and IPv6: a TFO black hole
 *   --rt              ask for SCHED_FIFO (best effort) so the relay wakes on time on a busy machine
 *   --spin-us N       wake N microseconds before a packet is due and spin until it is (timer wake-ups on a
 *                     VM can be 50-100 us late); default 0
 *
 * Commands on stdin, one per line (answers on stdout):
 *   drop-syn-data on|off   toggle the black hole
 *   delay-us N             change the delay of packets read from now on
 *   stats                  print "stats a2b=N b2a=N dropped=N overflow=N write_errors=N delay_us=N
 *                          drop_syn_data=0|1 late_avg_us=N late_max_us=N" (late: sent after the due time)
 * Output: "ready ifname=NAME delay_us=N" once both devices exist; errors on stderr, exit code 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_PACKET 65536
#define QUEUE_SLOTS 65536 /* power of two */

struct packet {
    uint64_t due_ns;
    uint32_t len;
    unsigned char *data;
};

struct queue {
    struct packet slots[QUEUE_SLOTS];
    uint32_t head; /* next to send */
    uint32_t tail; /* next free */
};

static volatile sig_atomic_t stop_requested;
static uint64_t delay_ns = 10000000ULL;
static int drop_syn_data;
static unsigned long long count_a2b, count_b2a, count_dropped, count_overflow, count_write_errors;
static unsigned long long late_sum_ns, late_max_ns, late_count;
static uint64_t spin_ns = 0;

static void on_signal(int sig) {
    (void) sig;
    stop_requested = 1;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "delaywire: %s%s%s: %s\n", what, detail ? " " : "", detail ? detail : "", strerror(errno));
    exit(1);
}

/* Opens a TUN device named ifname inside the network namespace /run/netns/ns; returns to origin after. */
static int open_tun_in(const char *ns, const char *ifname, int origin) {
    char path[512];
    snprintf(path, sizeof path, "/run/netns/%s", ns);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) die("cannot open", path);
    if (setns(nsfd, CLONE_NEWNET) < 0) die("setns into", path);
    close(nsfd);
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) die("cannot open", "/dev/net/tun");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF in", ns);
    if (setns(origin, CLONE_NEWNET) < 0) die("setns back to", "the original namespace");
    return fd;
}

/* True for a TCP segment with SYN set, ACK clear and a payload (a TFO first flight). */
static int is_syn_with_data(const unsigned char *p, uint32_t len) {
    if (len < 1) return 0;
    int version = p[0] >> 4;
    const unsigned char *tcp;
    uint32_t ip_payload_len;
    if (version == 4) {
        if (len < 20) return 0;
        uint32_t ihl = (uint32_t) (p[0] & 0x0f) * 4;
        uint32_t total = ((uint32_t) p[2] << 8) | p[3];
        if (p[9] != 6 || ihl < 20 || total > len || total < ihl) return 0;
        if ((((uint32_t) p[6] << 8 | p[7]) & 0x1fff) != 0) return 0; /* not the first fragment */
        tcp = p + ihl;
        ip_payload_len = total - ihl;
    } else if (version == 6) {
        if (len < 40) return 0;
        uint32_t plen = ((uint32_t) p[4] << 8) | p[5];
        if (p[6] != 6 || 40 + plen > len) return 0; /* TCP right after the fixed header only */
        tcp = p + 40;
        ip_payload_len = plen;
    } else {
        return 0;
    }
    if (ip_payload_len < 20) return 0;
    uint32_t doff = (uint32_t) (tcp[12] >> 4) * 4;
    int syn = tcp[13] & 0x02, ack = tcp[13] & 0x10;
    return syn && !ack && doff >= 20 && ip_payload_len > doff;
}

static void enqueue(struct queue *q, const unsigned char *buf, uint32_t len, uint64_t due) {
    if (q->tail - q->head >= QUEUE_SLOTS) {
        count_overflow++;
        return;
    }
    struct packet *slot = &q->slots[q->tail & (QUEUE_SLOTS - 1)];
    slot->data = malloc(len);
    if (!slot->data) {
        count_overflow++;
        return;
    }
    memcpy(slot->data, buf, len);
    slot->len = len;
    slot->due_ns = due;
    q->tail++;
}

/* Reads every packet waiting on fd into q. */
static void drain(int fd, struct queue *q, unsigned long long *counter) {
    static unsigned char buf[MAX_PACKET];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            die("read from", "tun");
        }
        if (n == 0) return;
        uint64_t due = now_ns() + delay_ns;
        if (drop_syn_data && is_syn_with_data(buf, (uint32_t) n)) {
            count_dropped++;
            continue;
        }
        (*counter)++;
        enqueue(q, buf, (uint32_t) n, due);
    }
}

/* Sends every packet of q that is due; returns the earliest remaining due time, or 0 if empty. */
static uint64_t release(struct queue *q, int fd, uint64_t now) {
    while (q->head != q->tail) {
        struct packet *p = &q->slots[q->head & (QUEUE_SLOTS - 1)];
        if (p->due_ns > now) {
            if (p->due_ns - now > spin_ns) return p->due_ns;
            /* Close enough: spin the last few microseconds instead of trusting the timer's wake-up. */
            while ((now = now_ns()) < p->due_ns) {
            }
        }
        if (write(fd, p->data, p->len) < 0) count_write_errors++;
        uint64_t late = now - p->due_ns;
        late_sum_ns += late;
        late_count++;
        if (late > late_max_ns) late_max_ns = late;
        free(p->data);
        p->data = NULL;
        q->head++;
    }
    return 0;
}

static void print_stats(void) {
    printf("stats a2b=%llu b2a=%llu dropped=%llu overflow=%llu write_errors=%llu delay_us=%llu drop_syn_data=%d"
           " late_avg_us=%llu late_max_us=%llu\n",
           count_a2b, count_b2a, count_dropped, count_overflow, count_write_errors,
           (unsigned long long) (delay_ns / 1000), drop_syn_data,
           late_count ? late_sum_ns / late_count / 1000 : 0ULL, late_max_ns / 1000);
    fflush(stdout);
}

static void command(char *line) {
    line[strcspn(line, "\r\n")] = 0;
    if (strcmp(line, "drop-syn-data on") == 0) {
        drop_syn_data = 1;
        printf("ok drop-syn-data on\n");
    } else if (strcmp(line, "drop-syn-data off") == 0) {
        drop_syn_data = 0;
        printf("ok drop-syn-data off\n");
    } else if (strncmp(line, "delay-us ", 9) == 0) {
        delay_ns = strtoull(line + 9, NULL, 10) * 1000ULL;
        printf("ok delay-us %llu\n", (unsigned long long) (delay_ns / 1000));
    } else if (strcmp(line, "stats") == 0) {
        print_stats();
        return;
    } else if (line[0] != 0) {
        printf("error unknown command: %s\n", line);
    }
    fflush(stdout);
}

static struct queue qa2b, qb2a;

int main(int argc, char **argv) {
    const char *ns_a = NULL, *ns_b = NULL, *ifname = "dw0";
    int rt = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ns-a") == 0 && i + 1 < argc) ns_a = argv[++i];
        else if (strcmp(argv[i], "--ns-b") == 0 && i + 1 < argc) ns_b = argv[++i];
        else if (strcmp(argv[i], "--ifname") == 0 && i + 1 < argc) ifname = argv[++i];
        else if (strcmp(argv[i], "--delay-us") == 0 && i + 1 < argc) delay_ns = strtoull(argv[++i], NULL, 10) * 1000ULL;
        else if (strcmp(argv[i], "--drop-syn-data") == 0) drop_syn_data = 1;
        else if (strcmp(argv[i], "--rt") == 0) rt = 1;
        else if (strcmp(argv[i], "--spin-us") == 0 && i + 1 < argc) spin_ns = strtoull(argv[++i], NULL, 10) * 1000ULL;
        else {
            fprintf(stderr, "usage: delaywire --ns-a NAME --ns-b NAME [--ifname dw0] [--delay-us N] "
                            "[--drop-syn-data] [--rt]\n");
            return 2;
        }
    }
    if (!ns_a || !ns_b) {
        fprintf(stderr, "delaywire: --ns-a and --ns-b are required\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int origin = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (origin < 0) die("cannot open", "/proc/self/ns/net");
    int fa = open_tun_in(ns_a, ifname, origin);
    int fb = open_tun_in(ns_b, ifname, origin);
    close(origin);

    if (rt) {
        struct sched_param sp = {.sched_priority = 10};
        if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) {
            fprintf(stderr, "delaywire: SCHED_FIFO not granted (%s); running at normal priority\n", strerror(errno));
        }
        mlockall(MCL_CURRENT);
    }

    printf("ready ifname=%s delay_us=%llu\n", ifname, (unsigned long long) (delay_ns / 1000));
    fflush(stdout);

    int stdin_open = 1;
    char line[256];
    size_t line_len = 0;
    while (!stop_requested) {
        uint64_t now = now_ns();
        uint64_t next_a = release(&qa2b, fb, now);
        uint64_t next_b = release(&qb2a, fa, now);
        uint64_t next = next_a && next_b ? (next_a < next_b ? next_a : next_b) : (next_a ? next_a : next_b);
        struct pollfd pfd[3] = {
            {.fd = fa, .events = POLLIN},
            {.fd = fb, .events = POLLIN},
            {.fd = stdin_open ? 0 : -1, .events = POLLIN},
        };
        struct timespec ts, *timeout = NULL;
        if (next) {
            uint64_t wait = next > now + spin_ns ? next - now - spin_ns : 0;
            ts.tv_sec = (time_t) (wait / 1000000000ULL);
            ts.tv_nsec = (long) (wait % 1000000000ULL);
            timeout = &ts;
        }
        int r = ppoll(pfd, 3, timeout, NULL);
        if (r < 0) {
            if (errno == EINTR) continue;
            die("ppoll", NULL);
        }
        if (pfd[0].revents & POLLIN) drain(fa, &qa2b, &count_a2b);
        if (pfd[1].revents & POLLIN) drain(fb, &qb2a, &count_b2a);
        if ((pfd[0].revents | pfd[1].revents) & (POLLERR | POLLHUP | POLLNVAL)) {
            fprintf(stderr, "delaywire: a tun device went away\n");
            break;
        }
        if (stdin_open && (pfd[2].revents & (POLLIN | POLLHUP))) {
            char c;
            ssize_t n = read(0, &c, 1);
            if (n <= 0) {
                stdin_open = 0;
                break; /* the parent went away or closed our stdin: stop */
            }
            if (c == '\n' || line_len == sizeof line - 1) {
                line[line_len] = 0;
                command(line);
                line_len = 0;
            } else {
                line[line_len++] = c;
            }
        }
    }
    close(fa);
    close(fb);
    return 0;
}
