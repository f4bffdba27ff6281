# shellcheck shell=bash
# gst-hart — the bundle of tests/device/pack-cuda-bundle.sh, made ready to run
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sourced (bash) by the scripts that run on a GPU machine
# (run-cuda-checks.sh, run-cuda-bench.sh).  devcuda_setup prints the
# bundle's MANIFEST, unpacks $ROOT/.devcuda/bundle.tar.xz into $WORK, sets
# BIN to its programs, exports LD_LIBRARY_PATH with the bundle's libraries
# and this machine's CUDA libraries (cuda-sonames.txt: found in the usual
# folders, pip wheels, PyTorch's, or by a bounded search), saying where each
# was found, and the environment the bundled programs read (the fixtures,
# the bundled model, fatal criticals); it returns 1 when there is no bundle
# or it cannot be unpacked.

# Folders that may hold the CUDA libraries, most likely first.
cuda_lib_dirs () {
  local d py
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
    /usr/local/cuda-*/lib64 /usr/local/cuda-*/targets/x86_64-linux/lib \
    /usr/local/cuda*/lib /usr/lib/x86_64-linux-gnu /usr/local/lib /usr/lib64 \
    /usr/local/nvidia/lib64 /opt/conda/lib; do
    [ -d "$d" ] && echo "$d"
  done
  # pip wheels: site-packages/nvidia/<part>/lib (cu12), nvidia/cu13/lib
  for py in python3 /usr/bin/python3; do
    command -v "$py" > /dev/null || continue
    timeout 20 "$py" - 2> /dev/null <<'EOF'
import glob, os, site, sys
roots = list(getattr(site, "getsitepackages", lambda: [])())
roots.append(site.getusersitepackages())
roots += [p for p in sys.path if p.endswith("-packages")]
try:
    import nvidia
    roots += [os.path.dirname(p) for p in nvidia.__path__]
except Exception:
    pass
seen = set()
for r in roots:
    for d in glob.glob(os.path.join(r, "nvidia", "*", "lib")) \
            + glob.glob(os.path.join(r, "torch", "lib")):
        if d not in seen:
            seen.add(d)
            print(d)
EOF
  done
  for d in /usr/local/lib/python3*/dist-packages/nvidia/*/lib \
    /usr/local/lib/python3*/site-packages/nvidia/*/lib \
    /usr/lib/python3/dist-packages/nvidia/*/lib \
    /opt/*/.venv/lib/python3*/site-packages/nvidia/*/lib \
    /opt/conda/lib/python3*/site-packages/nvidia/*/lib \
    /root/.local/lib/python3*/site-packages/nvidia/*/lib; do
    [ -d "$d" ] && echo "$d"
  done
}

devcuda_setup () {
  if [ ! -f "$ROOT/.devcuda/bundle.tar.xz" ]; then
    echo "no .devcuda/bundle.tar.xz: run tests/device/pack-cuda-bundle.sh" \
      "on the build machine and carry .devcuda"
    return 1
  fi
  sed -n '1,6p' "$ROOT/.devcuda/MANIFEST" 2> /dev/null
  # unpack (tar's xz, else Python's lzma)
  if command -v xz > /dev/null; then
    tar -C "$WORK" -xJf "$ROOT/.devcuda/bundle.tar.xz"
  else
    python3 -c 'import sys, tarfile
tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' \
      "$ROOT/.devcuda/bundle.tar.xz" "$WORK"
  fi
  if [ ! -x "$WORK/bin/hart" ]; then
    echo "cannot unpack .devcuda/bundle.tar.xz"
    return 1
  fi
  BIN="$WORK/bin"

  # ---- the CUDA libraries: from this machine ----
  local libpath="$WORK/lib" dirs soname found d
  dirs=$(cuda_lib_dirs | awk '!seen[$0]++')
  for soname in $(cat "$WORK/cuda-sonames.txt"); do
    found=""
    for d in $dirs; do
      if [ -e "$d/$soname" ]; then
        found=$d
        break
      fi
    done
    if [ -z "$found" ]; then
      found=$(timeout 15 find /usr /opt /root /home -name "$soname" \
        2> /dev/null | head -n 1)
      found=${found%/*}
    fi
    if [ -n "$found" ]; then
      echo "$soname: $found"
      case ":$libpath:" in *":$found:"*) ;; *) libpath="$libpath:$found" ;; esac
    elif ldconfig -p 2> /dev/null | grep -q "$soname "; then
      echo "$soname: in the loader cache"
    else
      echo "$soname: NOT FOUND on this machine (versions present:" \
        "$(cd / && for d in $dirs; do ls "$d" 2> /dev/null; done \
          | grep -E "^${soname%%.so*}\.so" | sort -u | tr '\n' ' '))"
    fi
  done
  # libstdc++/libgcc_s of the build machine only when this one has none
  for soname in libstdc++.so.6 libgcc_s.so.1; do
    if ! ldconfig -p 2> /dev/null | grep -q "$soname "; then
      echo "$soname: none on this machine, using the bundled one"
      case ":$libpath:" in *":$WORK/lib-compat:"*) ;;
        *) libpath="$libpath:$WORK/lib-compat" ;; esac
    fi
  done
  export LD_LIBRARY_PATH="$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  export HART_FIXTURES="$ROOT/tests/fixtures"
  export HART_BUNDLED_MODEL_DIR="$ROOT/data/models/shapes-64px"
  export G_DEBUG=fatal-criticals
}
