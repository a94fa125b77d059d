// What a test boot of a project needs, made from the project and its kit with no DOM and no file
// system: the kernel (the boot folder's vmlinuz, or the PC kit's for a blank project), the BIOS from
// the PC kit, the initramfs and, when the project has an ext4 root, the disk — built in memory with
// only the outputs a boot reads. The app's engine worker calls this; the machine itself runs in
// the test-boot worker (worker.ts).
import type { Entry } from '../model/entry.ts';
import type { Project } from '../model/project.ts';
import { BootsmithError, describeProblem } from '../model/problems.ts';
import { findEntry } from '../model/tree.ts';
import { boardById } from '../kits/boards.ts';
import type { Kit, KitSource } from '../kits/kit.ts';
import { x86Cmdline } from '../x86/boot.ts';
import { checkBinaries } from '../elf/elf.ts';
import { type BuildOptions, type BuildOutput, EXT4_NAME, SDCARD_NAME, buildProject } from '../pipeline.ts';

export const PC_KIT = 'pc';

export interface TestBootInputs {
  kernel: Blob;
  bios: Blob;
  initrd?: Blob;
  disk?: Blob;
  cmdline: string;
  /** One line per piece, for the Boot screen ("initramfs.cpio.gz 1.2 MB"). */
  what: string[];
}

const firstLine = (text: string) => text.replace(/^\uFEFF/, '').split(/\r?\n/)[0].trim();

async function kitFileOf(kit: Kit, source: KitSource, kind: string): Promise<Blob | undefined> {
  const f = kit.files.find((x) => x.kind === kind);
  return f ? source.file(f.sha256) : undefined;
}

/**
 * Builds only what a boot reads: the initramfs, uncompressed (a test boot's emulated CPU would
 * spend a third of its way to /init gunzipping it), and with `disk` the root disk — for a board
 * project the whole card image (its cmdline.txt says root=/dev/sda2), for a blank one the ext4
 * image itself. Images whose in-engine check fails are refused.
 */
export async function buildBootImages(project: Project, disk: boolean, opts: BuildOptions = {}): Promise<{ initrd?: BuildOutput; disk?: BuildOutput }> {
  const outputs = await buildProject({
    ...project,
    initramfs: { ...project.initramfs, enabled: true },
    ext4: { ...project.ext4, enabled: disk },
    fat: { ...project.fat, enabled: false },
    zip: { enabled: false },
    sdcard: { enabled: !!project.board && disk },
  }, { ...opts, uncompressedInitramfs: true });
  for (const o of outputs) if (o.check && !o.check.clean) throw new BootsmithError(`${o.check.tool} found problems in ${o.name}: ${o.check.summary}`);
  return {
    initrd: outputs.find((o) => o.name.startsWith('initramfs')),
    disk: outputs.find((o) => o.name === SDCARD_NAME) ?? outputs.find((o) => o.name === EXT4_NAME),
  };
}

/** Refuses, before any boot, programs v86 cannot run (it emulates a 32-bit x86 PC). `what` starts
 *  the message: "Can't test-boot", "Cannot boot app.bootsmith". */
export async function refuseForeignPrograms(entries: readonly Entry[], what: string): Promise<void> {
  const errors = (await checkBinaries(entries as Entry[], 'i386', 'PC')).filter((p) => p.severity === 'error');
  if (errors.length) {
    throw new BootsmithError(`${what}: ${describeProblem(errors[0])}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, errors);
  }
}

export async function testBootInputs(project: Project, source: KitSource, opts: BuildOptions & { disk?: boolean } = {}): Promise<TestBootInputs> {
  const board = project.board ? boardById(project.board.kit) : undefined;
  if (project.board && board?.family !== 'x86') {
    throw new BootsmithError(`A ${board?.name ?? project.board.kit} project can't be test-booted here: v86 emulates a 32-bit x86 PC. Make a project from the PC kit to test-boot it.`);
  }
  await refuseForeignPrograms(project.entries, "Can't test-boot");
  let kit: Kit;
  try {
    kit = await source.kit(project.board?.kit ?? PC_KIT);
  } catch (err) {
    throw new BootsmithError(`The PC kit is not available, so there is no kernel or BIOS to boot with: ${(err as Error).message}`);
  }
  const bootFile = (name: string) => {
    const e = findEntry(project.boot, '/' + name);
    return e?.type === 'file' ? e.data ?? new Blob([]) : undefined;
  };
  const kernel = bootFile('vmlinuz') ?? await kitFileOf(kit, source, 'kernel');
  const bios = await kitFileOf(kit, source, 'bios');
  if (!kernel) throw new BootsmithError('The boot folder has no vmlinuz. Add the kernel as /vmlinuz on the Boot partition tab, or make a new project from the PC kit.');
  if (!bios) throw new BootsmithError('The PC kit has no BIOS (bios.bin). Run the set-up again (npm start) to rebuild the kits.');

  const disk = !!(opts.disk ?? project.ext4.enabled);
  const { initrd, disk: diskOut } = await buildBootImages(project, disk, opts);
  const cmdlineBlob = bootFile('cmdline.txt');
  let cmdline = cmdlineBlob ? firstLine(await cmdlineBlob.text()) : firstLine(x86Cmdline(boardById(PC_KIT)!));
  if (!project.board && diskOut && !/(^|\s)root=/.test(cmdline)) cmdline += ' root=/dev/sda rw';
  const toBlob = (d: unknown) => (d instanceof Blob ? d : (d as { toBlob(): Blob }).toBlob());
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  return {
    kernel, bios, cmdline,
    initrd: initrd ? toBlob(initrd.data) : undefined,
    disk: diskOut ? toBlob(diskOut.data) : undefined,
    what: [
      `kernel ${bootFile('vmlinuz') ? 'vmlinuz' : 'from the PC kit'} ${mb(kernel.size)}`,
      ...(initrd ? [`${initrd.name} ${mb(initrd.size)}`] : []),
      ...(diskOut ? [`disk ${diskOut.name} ${mb(diskOut.size)} as /dev/sda`] : []),
    ],
  };
}
