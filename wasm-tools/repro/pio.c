/* Positional-I/O reproducer for WASI runtimes (Bootsmith).
 *
 * Writes a file through the calls that mke2fs, e2fsck, mkfs.fat and mtools use — write(),
 * pwrite() at offsets before and past the end, lseek()+write(), ftruncate() — then reads it back
 * with pread() and read() and prints one line per check:
 *   CHECK <name> off=<offset> len=<length> want=<byte> match=<bytes that matched> first=<byte read>
 *   pos=<lseek(fd, 0, SEEK_CUR)> where the check concerns the file position
 * and finally "RESULT ok" or "RESULT bad N". Exit status 0 when every check passed.
 * The file is left behind (default /work/pio.bin, or argv[1]) so the host can compare its bytes
 * with the expected layout: [0,4096) 'A' except [1024,1536) 'B'; [4096,4100) 'E';
 * [4100,8192) zeros; [8192,8704) 'C'; [65536,65540) 'F'; size 65540. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned char buf[8192];
static int failures;

static void fill(unsigned char c, size_t n) { memset(buf, c, n); }

static void check_read(int fd, const char *name, off_t off, size_t len, unsigned char want) {
  ssize_t got;
  size_t i, match = 0;
  memset(buf, 0x5a, len);
  got = pread(fd, buf, len, off);
  if (got < 0) {
    printf("CHECK %s off=%lld len=%zu want=0x%02x error=%s\n", name, (long long)off, len, want,
           strerror(errno));
    failures++;
    return;
  }
  for (i = 0; i < (size_t)got; i++)
    if (buf[i] == want) match++;
  printf("CHECK %s off=%lld len=%zu want=0x%02x got=%zd match=%zu first=0x%02x %s\n", name,
         (long long)off, len, want, got, match, got > 0 ? buf[0] : 0,
         match == len ? "ok" : "BAD");
  if (match != len) failures++;
}

static void check_pos(int fd, const char *name, off_t want) {
  off_t pos = lseek(fd, 0, SEEK_CUR);
  printf("CHECK %s pos=%lld want=%lld %s\n", name, (long long)pos, (long long)want,
         pos == want ? "ok" : "BAD");
  if (pos != want) failures++;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "/work/pio.bin";
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  struct stat st;
  if (fd < 0) {
    printf("open %s: %s\n", path, strerror(errno));
    return 2;
  }
  fill('A', 4096);
  if (write(fd, buf, 4096) != 4096) printf("write A failed: %s\n", strerror(errno));
  check_pos(fd, "pos-after-write", 4096);

  fill('B', 512);
  if (pwrite(fd, buf, 512, 1024) != 512) printf("pwrite B failed: %s\n", strerror(errno));
  check_pos(fd, "pos-after-pwrite", 4096); /* pwrite must not move the file position */

  fill('C', 512);
  if (pwrite(fd, buf, 512, 8192) != 512) printf("pwrite C failed: %s\n", strerror(errno));

  fill('E', 4);
  if (write(fd, buf, 4) != 4) printf("write E failed: %s\n", strerror(errno));
  check_pos(fd, "pos-after-second-write", 4100);

  fill('F', 4);
  if (lseek(fd, 65536, SEEK_SET) != 65536) printf("lseek failed: %s\n", strerror(errno));
  if (write(fd, buf, 4) != 4) printf("write F failed: %s\n", strerror(errno));

  check_read(fd, "pread-A-head", 0, 1024, 'A');
  check_read(fd, "pread-B", 1024, 512, 'B');
  check_read(fd, "pread-A-tail", 1536, 2560, 'A');
  check_read(fd, "pread-E", 4096, 4, 'E');
  check_read(fd, "pread-hole", 4100, 4092, 0);
  check_read(fd, "pread-C", 8192, 512, 'C');
  check_read(fd, "pread-F", 65536, 4, 'F');

  if (fstat(fd, &st) == 0) {
    printf("CHECK size size=%lld want=65540 %s\n", (long long)st.st_size,
           st.st_size == 65540 ? "ok" : "BAD");
    if (st.st_size != 65540) failures++;
  }

  /* read() after lseek(): the path most sequential readers take. */
  lseek(fd, 1024, SEEK_SET);
  memset(buf, 0, 512);
  {
    ssize_t got = read(fd, buf, 512);
    size_t i, match = 0;
    for (i = 0; i < (size_t)(got > 0 ? got : 0); i++)
      if (buf[i] == 'B') match++;
    printf("CHECK lseek-read-B off=1024 len=512 want=0x42 got=%zd match=%zu %s\n", got, match,
           match == 512 ? "ok" : "BAD");
    if (match != 512) failures++;
  }
  close(fd);
  if (failures) printf("RESULT bad %d\n", failures);
  else printf("RESULT ok\n");
  return failures ? 1 : 0;
}
