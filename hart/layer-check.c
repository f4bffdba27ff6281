/* gst-hart — links one layer of libhart whole with only the layers below it
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built once per layer by hart/meson.build: a function of the layer that
 * calls into a layer above it leaves an undefined symbol, and the link of
 * this program fails (docs/architecture.md, "Layers").
 */
int
main (void)
{
  return 0;
}
