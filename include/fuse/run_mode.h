// SPDX-License-Identifier: MIT
/*
 * run_mode — `ext4pager run [options] IMAGE -- COMMAND [ARG...]`: mount on a private
 * temporary directory, run COMMAND with EXT4PAGER_MOUNT set to it, then always unmount and
 * remove the directory — after the command exits, fails, or is interrupted, and when the mount
 * itself fails. Part of the FUSE layer.
 *
 * Exit status: COMMAND's; 128+N if it died of signal N; 125 if ext4pager could not mount;
 * 126/127 if COMMAND could not be run / found (as env(1) and chroot(8) do).
 */
#ifndef EXT4PAGER_RUN_MODE_H
#define EXT4PAGER_RUN_MODE_H

#include "options.h"

int run_mode(const struct options *o, const char *image_path);

#endif
