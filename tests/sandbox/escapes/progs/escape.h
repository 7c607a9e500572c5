/* Shared by the escape programs: each tries one way out of the sandbox,
 * prints what happened as "NAME: ..." lines, and exits 0 only if the escape
 * SUCCEEDED (so a sandbox that lets it through fails the test), 1 if it was
 * stopped, 2 on a usage error. */
#ifndef EDGEWARD_ESCAPE_H_
#define EDGEWARD_ESCAPE_H_

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* also set by escapes.cmake, before any system header */
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints "what: ok" or "what: failed errno=EPERM (Operation not permitted)"
 * and returns 1 when the call succeeded. */
static inline int Report(const char* what, long rc) {
  if (rc >= 0) {
    printf("%s: ok (%ld)\n", what, rc);
    fflush(stdout);
    return 1;
  }
  int err = errno;
  const char* name = strerrorname_np(err);
  printf("%s: failed errno=%s (%s)\n", what, name ? name : "?", strerror(err));
  fflush(stdout);
  return 0;
}

static inline int Escaped(int escaped) {
  printf("escape %s\n", escaped ? "SUCCEEDED" : "stopped");
  fflush(stdout);
  return escaped ? 0 : 1;
}

#endif
