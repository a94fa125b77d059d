#!/usr/bin/env bash
# Manual check of a Pi kit in QEMU (not part of npm test; the product's boot tests are in
# tests/boot/). Builds an initramfs by hand from the kit's root files and a tiny /init, makes a
# 64 MiB SD image (MBR: FAT p1, ext4 p2) natively, boots raspi3b and checks that the kit's modules
# load through its modules.dep and that the sd group mounts /dev/mmcblk0p2 as ext4.
#   bash tests/kits/qemu-check.sh [pi3b|pizero2w] [dtb]
# Needs qemu-system-aarch64, cpio, sfdisk, mkfs.ext4, mkfs.vfat. Prints the serial log's markers.
set -euo pipefail
cd "$(dirname "$0")/../.."
kit=${1:-pi3b}
KITS=${BOOTSMITH_KITS:-public/kits}
[ -f "$KITS/$kit/kit.json" ] || { echo "no $KITS/$kit/kit.json (run: bash kits/build.sh)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Root files of the kit into $tmp/root; prints "<kernel blob> <dtb blob> <sd modules> <kernel ver>".
read -r kernel dtb sdmods kver < <(node -e '
  const fs = require("fs"), path = require("path");
  const [kits, id, dest, want] = process.argv.slice(1);
  const k = JSON.parse(fs.readFileSync(`${kits}/${id}/kit.json`, "utf8"));
  for (const f of k.files.filter((f) => f.part === "root")) {
    const p = path.join(dest, f.path);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.copyFileSync(`${kits}/blobs/${f.sha256}`, p);
    fs.chmodSync(p, f.mode ?? 0o644);
  }
  const dtbName = want || k.files.find((f) => f.kind === "dtb").path;
  const blob = (pred) => `${kits}/blobs/${k.files.find(pred).sha256}`;
  console.log(blob((f) => f.kind === "kernel"), blob((f) => f.path === dtbName), k.sdModules.join(","), k.kernel);
' "$KITS" "$kit" "$tmp/root" "${2:-}")

mkdir -p "$tmp"/root/{proc,sys,dev,mnt,sbin,usr/bin,usr/sbin}
cat > "$tmp/root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
dmesg -n 1
echo "CHECK init up=\$(cut -d' ' -f1 /proc/uptime)"
for m in $(echo "$sdmods" | tr , ' '); do modprobe \$m || echo "CHECK FAIL modprobe \$m"; done
modprobe i2c-dev && modprobe i2c-bcm2835 || echo "CHECK FAIL i2c"
echo "CHECK modules up=\$(cut -d' ' -f1 /proc/uptime)"
i=0; while [ ! -b /dev/mmcblk0p2 ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i+1)); done
echo "CHECK block \$(ls /sys/class/block | tr '\n' ' ')"
mkdir -p /mnt/r && mount -t ext4 /dev/mmcblk0p2 /mnt/r && echo "CHECK ext4 \$(cat /mnt/r/marker) up=\$(cut -d' ' -f1 /proc/uptime)"
echo "CHECK done"
exec sleep 100000   # PID 1 must not exit: a panic can swallow the last line
EOF
chmod 755 "$tmp/root/init"
(cd "$tmp/root" && find . | cpio -H newc -o --quiet | gzip -6) > "$tmp/initrd.gz"

img=$tmp/sd.img
truncate -s 64M "$img"
printf 'label: dos\nstart=2048, size=32768, type=c\nstart=34816, type=83\n' | sfdisk -q "$img"
mkdir -p "$tmp/ext" && echo "kit-$kit-ok" > "$tmp/ext/marker"
mkfs.vfat --offset 2048 -n BOOT "$img" 16384 >/dev/null 2>&1
mkfs.ext4 -q -F -d "$tmp/ext" -E offset=$((34816 * 512)) "$img" $(((131072 - 34816) / 2))K

start=$EPOCHREALTIME
qemu-system-aarch64 -M raspi3b -kernel "$kernel" -dtb "$dtb" -initrd "$tmp/initrd.gz" \
  -append "console=ttyS1,115200 rdinit=/init" -serial null -serial stdio -nographic -monitor none \
  -accel tcg,thread=single -drive if=sd,format=raw,file="$img" </dev/null >"$tmp/serial.log" 2>&1 &
qemu=$!
for _ in $(seq 1200); do
  grep -aq 'CHECK done' "$tmp/serial.log" && break
  kill -0 "$qemu" 2>/dev/null || break
  sleep 0.1
done
end=$EPOCHREALTIME
kill "$qemu" 2>/dev/null || true
wait "$qemu" 2>/dev/null || true
tr -d '\r' < "$tmp/serial.log" | grep -a '^CHECK' || true
awk -v a="$start" -v b="$end" -v k="$kver" 'BEGIN { printf "kernel %s, %.1f s wall to the last marker\n", k, b - a }'
grep -aq "CHECK ext4 kit-$kit-ok" "$tmp/serial.log" && ! grep -aq 'CHECK FAIL' "$tmp/serial.log"
