#ifndef SWITCHBOARD_CFASTCGI_SHIM_H
#define SWITCHBOARD_CFASTCGI_SHIM_H

#include <fcgiapp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

/// Line-buffer stdout and stderr: Swift 6 cannot touch the C `stdout` global directly.
static inline void cfcgi_line_buffer_stdio(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IOLBF, 0);
}

#endif
