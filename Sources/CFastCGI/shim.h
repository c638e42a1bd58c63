#ifndef SWITCHBOARD_CFASTCGI_SHIM_H
#define SWITCHBOARD_CFASTCGI_SHIM_H

#include <fcgiapp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/// Line-buffer stdout and stderr: Swift 6 cannot touch the C `stdout` global directly.
static inline void cfcgi_line_buffer_stdio(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IOLBF, 0);
}

/// Write ends of the self-pipes, by signal number (-1: none). The handler below only writes one
/// byte there, which is async-signal-safe; everything else happens on a thread reading the pipe.
static int cfcgi_signal_fds[65] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};

static inline void cfcgi_signal_to_pipe(int signo) {
    int saved = errno;
    if (signo > 0 && signo < 65 && cfcgi_signal_fds[signo] >= 0) {
        unsigned char byte = (unsigned char)signo;
        ssize_t ignored = write(cfcgi_signal_fds[signo], &byte, 1);
        (void)ignored;
    }
    errno = saved;
}

/// Delivers `signo` as one byte on the pipe `fd` (its non-blocking write end). SA_RESTART, so
/// no other thread's read, write or accept is cut short by it. Answers 0 or -1 (errno set).
static inline int cfcgi_route_signal(int signo, int fd) {
    if (signo <= 0 || signo >= 65) { errno = EINVAL; return -1; }
    cfcgi_signal_fds[signo] = fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = cfcgi_signal_to_pipe;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(signo, &action, NULL);
}

/// Sets `signo` to ignored if it is still at its default, so that FCGX_Init leaves it alone
/// (libfcgi turns a default SIGUSR1 into "shut down after this request").
static inline void cfcgi_ignore_if_default(int signo) {
    struct sigaction current;
    if (sigaction(signo, NULL, &current) == 0 && current.sa_handler == SIG_DFL) {
        signal(signo, SIG_IGN);
    }
}

#endif
