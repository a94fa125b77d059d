// The /init a board kit's project starts with: a busybox shell script the user can read and edit.
// Its settings live in small files under /etc/bootsmith/ so that the app's forms (and the CLI's
// --start) change a file, never the script:
//   /etc/bootsmith/start    the command line of the user's program
//   /etc/bootsmith/modules  kernel modules to load, one name per line (the Modules picker)
//   /etc/bootsmith/after    what happens when the program exits: shell, restart or poweroff

export const INIT_PATH = '/init';
export const START_PATH = '/etc/bootsmith/start';
export const MODULES_PATH = '/etc/bootsmith/modules';
export const AFTER_PATH = '/etc/bootsmith/after';

export type AfterExit = 'shell' | 'restart' | 'poweroff';
export const AFTER_EXIT: AfterExit[] = ['shell', 'restart', 'poweroff'];

/** Printed on the console once the system is up and just before the program starts; the boot
 *  tests wait for these. */
export const READY_MARKER = 'bootsmith: starting';

export function initScript(): string {
  return `#!/bin/busybox sh
# Bootsmith /init: the first program the kernel runs (PID 1). It mounts the kernel's file systems,
# loads the modules named in /etc/bootsmith/modules, moves to the ext4 root when cmdline.txt has
# root=, and starts the program in /etc/bootsmith/start. PID 1 must never exit: when the program
# ends, /etc/bootsmith/after says what happens (shell, restart or poweroff).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
bb=/bin/busybox
$bb mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
# /proc first: busybox finds itself through /proc/self/exe when it makes the applet links.
$bb mount -t proc proc /proc 2>/dev/null
$bb mount -t sysfs sysfs /sys 2>/dev/null
$bb mount -t devtmpfs devtmpfs /dev 2>/dev/null
$bb --install -s || echo "bootsmith: busybox could not link its commands into /bin, /sbin, /usr/bin"
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts 2>/dev/null
# devtmpfs makes the /dev nodes; mdev adds what its rules say, now and for devices that appear
# later (USB serial adapters, ...). Kernels without a uevent helper (Debian's) get mdev's daemon.
if [ -e /proc/sys/kernel/hotplug ]; then echo /sbin/mdev > /proc/sys/kernel/hotplug; else mdev -d 2>/dev/null; fi
mdev -s

if [ -f /etc/bootsmith/modules ]; then
  while read -r module args; do
    case "$module" in ''|'#'*) continue ;; esac
    modprobe "$module" $args || echo "bootsmith: cannot load the kernel module $module"
  done < /etc/bootsmith/modules
  mdev -s
fi

# root=/dev/... in cmdline.txt: mount that ext4 partition and continue there.
root=
for arg in $(cat /proc/cmdline); do
  case "$arg" in root=/dev/*) root=\${arg#root=} ;; esac
done
if [ -n "$root" ] && [ -z "$BOOTSMITH_ROOT" ]; then
  tries=0
  while [ ! -b "$root" ] && [ $tries -lt 20 ]; do sleep 1; mdev -s; tries=$((tries + 1)); done
  if [ ! -b "$root" ]; then
    # Kernels before 6.4 may call a Pi 4's SD card mmcblk1: take the same partition there.
    case "$root" in /dev/mmcblk*p*)
      for other in /dev/mmcblk*p\${root##*p}; do [ -b "$other" ] && { echo "bootsmith: $root is missing, using $other"; root=$other; break; }; done ;;
    esac
  fi
  mkdir -p /newroot
  if mount -t ext4 "$root" /newroot 2>/dev/null; then
    if [ -x /newroot/init ]; then
      echo "bootsmith: root file system $root"
      mkdir -p /newroot/dev /newroot/proc /newroot/sys
      mount --move /dev /newroot/dev
      umount /proc /sys 2>/dev/null
      export BOOTSMITH_ROOT=$root
      exec switch_root /newroot /init
    fi
    echo "bootsmith: $root has no executable /init; staying in the initramfs"
    umount /newroot
  else
    echo "bootsmith: cannot mount $root as ext4; staying in the initramfs. Block devices: $(ls /sys/class/block | tr '\\n' ' ')"
  fi
fi

echo "bootsmith: up in $(cut -d ' ' -f 1 /proc/uptime) s"
after=$(cat /etc/bootsmith/after 2>/dev/null)
start=$(cat /etc/bootsmith/start 2>/dev/null)
while :; do
  if [ -n "$start" ]; then
    echo "${READY_MARKER} $start"
    setsid cttyhack sh -c "$start"
    echo "bootsmith: $start exited with status $?"
  fi
  case "$after" in
    restart) [ -n "$start" ] && { sleep 1; continue; } ;;
    poweroff) sync; poweroff -f ;;
  esac
  echo "bootsmith: a shell on the console; type exit for a new one"
  setsid cttyhack sh -l
done
`;
}
