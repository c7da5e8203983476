// ckpt.c — binary checkpoints (format in ckpt.h).
//
// Header, 120 bytes, little-endian:
//    0 "NETCKPT\0"        8 u32 version       12 u32 tensor count
//   16 u64 file size     24 u64 structure hash
//   32 u32 optimiser kind (CKPT_NO_OPTIM: none)  36 u32 state arrays
//   40 i64 optimiser step 48 u64 floats per state array  56 u64 state offset
//   64 u32 has training state  68 i32 epoch  72 u64 seed
//   80 i32 best epoch    84 i32 epochs since best  88 f64 best val loss
//   96 f64 seconds      104 f64 images   112 u64 best-parameter offset (0: none)
// Version 2 only (152 bytes): 120 f64 plateau lr  128 f64 plateau best
//   136 i32 plateau bad epochs  140 i32 plateau cooldown  144 u64 reserved (0)
// Version 3 only (168 bytes): 152 u32 flags (bit 0: the plateau state is
//   valid)  156 u32 normalisation channels  160 u64 their offset: channels
//   f32 means, then channels f32 stds, after the best parameters
// Table entry: u32 name length, name (no NUL), u32 rank, u32 dim[4],
//   u64 data offset, u64 floats.  Floats are written in host order, which
//   must be little-endian (checked).
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ckpt.h"

#define HEADER_V1 120
#define HEADER_V2 152
#define HEADER_V3 168
#define NAME_MAX_LEN 4096
#define CKPT_NO_OPTIM 0xffffffffu
static const char MAGIC[8] = "NETCKPT";   // with its NUL: 8 bytes

static int fail(const char *path, const char *what) {
  fprintf(stderr, "%s: %s\n", path, what);
  return -1;
}

static int host_is_little_endian(void) {
  uint16_t x = 1;
  return *(uint8_t *)&x == 1;
}

static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_f64(unsigned char *p, double d) {
  uint64_t v;
  memcpy(&v, &d, 8);
  put_u64(p, v);
}
static uint32_t get_u32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
  return v;
}
static uint64_t get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}
static double get_f64(const unsigned char *p) {
  uint64_t v = get_u64(p);
  double d;
  memcpy(&d, &v, 8);
  return d;
}

static size_t entry_size(const NetTensor *t) {
  return 4 + strlen(t->name) + 4 + 16 + 8 + 8;
}

// ---------------------------------------------------------------- save

typedef struct {
  FILE *f;
  const char *path;          // the temporary file, for messages
  uLong crc;
  int err;
} Writer;

static void w_bytes(Writer *w, const void *p, size_t n) {
  if (w->err || n == 0)
    return;
  if (fwrite(p, 1, n, w->f) != n) {
    fprintf(stderr, "%s: write failed: %s\n", w->path, strerror(errno ? errno : EIO));
    w->err = 1;
    return;
  }
  // crc32 takes a uInt length: feed large blocks in pieces.
  const unsigned char *b = p;
  while (n) {
    uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
    w->crc = crc32(w->crc, b, k);
    b += k;
    n -= k;
  }
}

static int fsync_dir(const char *path) {
  char *copy = strdup(path);
  if (!copy)
    return -1;
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
  free(copy);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int ckpt_fsync_dir(const char *path) { return fsync_dir(path); }

int ckpt_save(const char *path, const NetModel *m, const Optim *opt, const CkptTrain *tr) {
  if (!host_is_little_endian())
    return fail(path, "checkpoints need a little-endian host");
  int nstate = opt ? optim_state_count(opt) : 0;
  size_t table = 0;
  for (int i = 0; i < m->n_tensors; i++)
    table += entry_size(&m->tensors[i]);
  const int v2 = tr && tr->has_plateau;
  const int v3 = tr && tr->norm_channels > 0 && tr->norm_channels <= CKPT_NORM_MAX;
  const size_t hsize = v3 ? HEADER_V3 : v2 ? HEADER_V2 : HEADER_V1;
  uint64_t data_off = hsize + table, off = data_off;
  for (int i = 0; i < m->n_tensors; i++)
    off += m->tensors[i].numel * 4;
  uint64_t state_off = off;
  off += (uint64_t)nstate * (opt ? opt->n : 0) * 4;
  uint64_t best_off = tr && tr->best_params ? off : 0;
  if (best_off)
    off += (uint64_t)m->n_params * 4;
  uint64_t norm_off = v3 ? off : 0;
  if (v3)
    off += (uint64_t)tr->norm_channels * 8;
  uint64_t file_size = off + 4;

  unsigned char h[HEADER_V3] = {0};
  memcpy(h, MAGIC, 8);
  put_u32(h + 8, v3 ? 3 : v2 ? 2 : 1);
  put_u32(h + 12, (uint32_t)m->n_tensors);
  put_u64(h + 16, file_size);
  put_u64(h + 24, m->structure_hash);
  put_u32(h + 32, opt ? (uint32_t)opt->cfg.kind : CKPT_NO_OPTIM);
  put_u32(h + 36, (uint32_t)nstate);
  put_u64(h + 40, opt ? (uint64_t)opt->step : 0);
  put_u64(h + 48, opt ? opt->n : 0);
  put_u64(h + 56, state_off);
  if (tr) {
    put_u32(h + 64, 1);
    put_u32(h + 68, (uint32_t)tr->epoch);
    put_u64(h + 72, tr->seed);
    put_u32(h + 80, (uint32_t)tr->best_epoch);
    put_u32(h + 84, (uint32_t)tr->since_best);
    put_f64(h + 88, tr->best_val_loss);
    put_f64(h + 96, tr->seconds);
    put_f64(h + 104, tr->images);
    put_u64(h + 112, best_off);
  }
  if (v2) {
    put_f64(h + 120, tr->plateau.lr);
    put_f64(h + 128, tr->plateau.best);
    put_u32(h + 136, (uint32_t)tr->plateau.bad_epochs);
    put_u32(h + 140, (uint32_t)tr->plateau.cooldown);
  }
  if (v3) {
    put_u32(h + 152, v2 ? 1 : 0);
    put_u32(h + 156, (uint32_t)tr->norm_channels);
    put_u64(h + 160, norm_off);
  }

  size_t plen = strlen(path);
  char *tmp = malloc(plen + 5);
  if (!tmp)
    return fail(path, "out of memory");
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp", 5);
  Writer w = {fopen(tmp, "wb"), tmp, crc32(0L, Z_NULL, 0), 0};
  if (!w.f) {
    fprintf(stderr, "%s: cannot create: %s\n", tmp, strerror(errno));
    free(tmp);
    return -1;
  }
  w_bytes(&w, h, hsize);
  off = data_off;
  for (int i = 0; i < m->n_tensors; i++) {
    const NetTensor *t = &m->tensors[i];
    unsigned char e[4 + 4 + 16 + 8 + 8];
    uint32_t len = (uint32_t)strlen(t->name);
    put_u32(e, len);
    w_bytes(&w, e, 4);
    w_bytes(&w, t->name, len);
    put_u32(e, (uint32_t)t->rank);
    for (int k = 0; k < NET_MAX_RANK; k++)
      put_u32(e + 4 + 4 * k, k < t->rank ? (uint32_t)t->dim[k] : 0);
    put_u64(e + 20, off);
    put_u64(e + 28, t->numel);
    w_bytes(&w, e, 36);
    off += t->numel * 4;
  }
  for (int i = 0; i < m->n_tensors; i++)
    w_bytes(&w, m->params + m->tensors[i].offset, m->tensors[i].numel * 4);
  float *state[OPTIM_MAX_STATE];
  if (opt)
    optim_state_arrays(opt, state);
  for (int k = 0; k < nstate; k++)
    w_bytes(&w, state[k], opt->n * 4);
  if (best_off) w_bytes(&w, tr->best_params, m->n_params * 4);
  if (v3) {
    w_bytes(&w, tr->norm_mean, (size_t)tr->norm_channels * 4);
    w_bytes(&w, tr->norm_std, (size_t)tr->norm_channels * 4);
  }
  unsigned char c[4];
  put_u32(c, (uint32_t)w.crc);
  w_bytes(&w, c, 4);

  int ok = !w.err;
  if (ok && (fflush(w.f) != 0 || fsync(fileno(w.f)) != 0)) {
    fprintf(stderr, "%s: flush failed: %s\n", tmp, strerror(errno));
    ok = 0;
  }
  if (fclose(w.f) != 0 && ok) {
    fprintf(stderr, "%s: close failed: %s\n", tmp, strerror(errno));
    ok = 0;
  }
  if (ok && rename(tmp, path) != 0) {
    fprintf(stderr, "%s: cannot rename %s over it: %s\n", path, tmp, strerror(errno));
    ok = 0;
  }
  if (!ok) {
    remove(tmp);
    fprintf(stderr, "%s: checkpoint not written; the previous one, if any, is unchanged\n", path);
    free(tmp);
    return -1;
  }
  free(tmp);
  if (fsync_dir(path) != 0)
    fprintf(stderr, "%s: warning: cannot fsync its directory: %s\n", path, strerror(errno));
  return 0;
}

// ---------------------------------------------------------------- load

typedef struct {
  char *name;
  int rank;
  int dim[NET_MAX_RANK];
  uint64_t offset, numel;
} Entry;

typedef struct {
  const char *path;
  unsigned char *buf;
  size_t size;
  uint32_t n;
  Entry *e;
  uint64_t hash;
  uint32_t version;
  size_t hsize;              // header bytes: HEADER_V1 or HEADER_V2
  uint32_t optim_kind, optim_count;
  int64_t optim_step;
  uint64_t optim_n, optim_off;
} File;

static void file_free(File *f) {
  if (f->e)
    for (uint32_t i = 0; i < f->n; i++)
      free(f->e[i].name);
  free(f->e);
  free(f->buf);
  memset(f, 0, sizeof *f);
}

static int read_all(File *f) {
  char msg[256];
  FILE *fp = fopen(f->path, "rb");
  if (!fp) {
    snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
    return fail(f->path, msg);
  }
  struct stat st;
  if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(fp);
    return fail(f->path, "not a regular file");
  }
  f->size = (size_t)st.st_size;
  f->buf = malloc(f->size ? f->size : 1);
  if (!f->buf) {
    fclose(fp);
    return fail(f->path, "out of memory");
  }
  size_t got = fread(f->buf, 1, f->size, fp);
  int err = ferror(fp);
  fclose(fp);
  if (got != f->size || err) {
    snprintf(msg, sizeof msg, "read failed after %zu of %zu bytes", got, f->size);
    return fail(f->path, msg);
  }
  return 0;
}

// Reads and checks the file up to the table: magic, version, length, CRC,
// then every table entry against the file's bounds.
static int file_open(File *f, const char *path) {
  char msg[512];
  memset(f, 0, sizeof *f);
  f->path = path;
  if (read_all(f))
    return -1;
  if (f->size < 8 || memcmp(f->buf, MAGIC, 8) != 0)
    return fail(path, "not a netc checkpoint (bad magic number)");
  if (f->size < HEADER_V1 + 4) {
    snprintf(msg, sizeof msg, "truncated: %zu bytes, shorter than a checkpoint header", f->size);
    return fail(path, msg);
  }
  uint32_t version = get_u32(f->buf + 8);
  if (version < 1 || version > CKPT_VERSION) {
    snprintf(msg, sizeof msg, "checkpoint format version %u, this build reads versions 1 to %d",
             version, CKPT_VERSION);
    return fail(path, msg);
  }
  f->version = version;
  f->hsize = version == 3 ? HEADER_V3 : version == 2 ? HEADER_V2 : HEADER_V1;
  if (f->size < f->hsize + 4) {
    snprintf(msg, sizeof msg, "truncated: %zu bytes, shorter than a version %u header", f->size, version);
    return fail(path, msg);
  }
  uint64_t claimed = get_u64(f->buf + 16);
  if (claimed != f->size) {
    snprintf(msg, sizeof msg, "%s: file has %zu bytes, its header says %llu",
             claimed > f->size ? "truncated" : "trailing data or damaged header", f->size,
             (unsigned long long)claimed);
    return fail(path, msg);
  }
  uint32_t stored = get_u32(f->buf + f->size - 4);
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t k = 0; k < f->size - 4;) {
    uInt n = f->size - 4 - k > (1u << 30) ? (1u << 30) : (uInt)(f->size - 4 - k);
    crc = crc32(crc, f->buf + k, n);
    k += n;
  }
  if ((uint32_t)crc != stored) {
    snprintf(msg, sizeof msg, "CRC mismatch (stored 0x%08x, computed 0x%08x): the file is damaged",
             stored, (uint32_t)crc);
    return fail(path, msg);
  }
  if (!host_is_little_endian())
    return fail(path, "checkpoints need a little-endian host");
  f->n = get_u32(f->buf + 12);
  f->hash = get_u64(f->buf + 24);
  f->optim_kind = get_u32(f->buf + 32);
  f->optim_count = get_u32(f->buf + 36);
  f->optim_step = (int64_t)get_u64(f->buf + 40);
  f->optim_n = get_u64(f->buf + 48);
  f->optim_off = get_u64(f->buf + 56);
  uint64_t end = f->size - 4;
  if (f->n > (end - f->hsize) / 40)
    return fail(path, "damaged: tensor count does not fit in the file");
  f->e = calloc(f->n ? f->n : 1, sizeof *f->e);
  if (!f->e)
    return fail(path, "out of memory");
  size_t p = f->hsize;
  for (uint32_t i = 0; i < f->n; i++) {
    Entry *e = &f->e[i];
    if (p + 4 > end)
      return fail(path, "damaged: tensor table runs past the end of the file");
    uint32_t len = get_u32(f->buf + p);
    if (len == 0 || len > NAME_MAX_LEN || p + 4 + len + 36 > end)
      return fail(path, "damaged: tensor table runs past the end of the file");
    e->name = malloc(len + 1);
    if (!e->name)
      return fail(path, "out of memory");
    memcpy(e->name, f->buf + p + 4, len);
    e->name[len] = 0;
    p += 4 + len;
    uint32_t rank = get_u32(f->buf + p);
    if (rank > NET_MAX_RANK) {
      snprintf(msg, sizeof msg, "damaged: tensor %s has rank %u", e->name, rank);
      return fail(path, msg);
    }
    e->rank = (int)rank;
    uint64_t numel = 1;
    for (int k = 0; k < NET_MAX_RANK; k++) {
      e->dim[k] = (int)get_u32(f->buf + p + 4 + 4 * k);
      if (k < e->rank) numel *= (uint32_t)e->dim[k];
    }
    e->offset = get_u64(f->buf + p + 20);
    e->numel = get_u64(f->buf + p + 28);
    p += 36;
    if (e->numel != numel || e->offset < p || e->offset > end || e->numel > (end - e->offset) / 4) {
      snprintf(msg, sizeof msg, "damaged: the data of tensor %s lies past the end of the file", e->name);
      return fail(path, msg);
    }
  }
  if (f->optim_kind != CKPT_NO_OPTIM &&
      (f->optim_count > OPTIM_MAX_STATE || f->optim_off > end ||
       f->optim_n * f->optim_count > (end - f->optim_off) / 4))
    return fail(path, "damaged: the optimizer state lies past the end of the file");
  return 0;
}

static const Entry *file_find(const File *f, const char *name) {
  for (uint32_t i = 0; i < f->n; i++)
    if (strcmp(f->e[i].name, name) == 0)
      return &f->e[i];
  return NULL;
}

// Checks that model tensor t exists in f with the same shape.
static const Entry *match_tensor(const File *f, const NetTensor *t) {
  char msg[512], a[96], b[96];
  const Entry *e = file_find(f, t->name);
  if (!e) {
    snprintf(msg, sizeof msg, "the checkpoint has no tensor %s (a checkpoint of another model?)",
             t->name);
    fail(f->path, msg);
    return NULL;
  }
  int same = e->rank == t->rank;
  for (int k = 0; same && k < t->rank; k++)
    same = e->dim[k] == t->dim[k];
  if (!same) {
    snprintf(msg, sizeof msg, "tensor %s has shape %s in the checkpoint, the model expects %s",
             t->name, model_shape_text(a, sizeof a, e->rank, e->dim),
             model_shape_text(b, sizeof b, t->rank, t->dim));
    fail(f->path, msg);
    return NULL;
  }
  return e;
}

// Whether the file holds the plateau schedule's state: always in version
// 2, in version 3 when flag bit 0 says so.
static int has_plateau(const File *f) {
  return f->version == 2 || (f->version == 3 && (get_u32(f->buf + 152) & 1));
}

static int plateau_check(const File *f) {
  if (!has_plateau(f))
    return 0;
  double lr = get_f64(f->buf + 120);
  if (!(lr >= 0) || !isfinite(lr) || (int32_t)get_u32(f->buf + 136) < 0 || (int32_t)get_u32(f->buf + 140) < 0)
    return fail(f->path, "damaged: the plateau schedule's state is not a valid one");
  return 0;
}

static void plateau_read(const File *f, Plateau *p) {
  const unsigned char *h = f->buf;
  p->lr = get_f64(h + 120);
  p->best = get_f64(h + 128);
  p->bad_epochs = (int32_t)get_u32(h + 136);
  p->cooldown = (int32_t)get_u32(h + 140);
}

// Version 3's normalisation section: within the file, channels in
// 1..CKPT_NORM_MAX, every std positive and finite.
static int norm_check(const File *f) {
  if (f->version < 3)
    return 0;
  uint32_t ch = get_u32(f->buf + 156);
  uint64_t off = get_u64(f->buf + 160);
  if (ch < 1 || ch > CKPT_NORM_MAX || off > f->size - 4 || ch * 8ull > f->size - 4 - off)
    return fail(f->path, "damaged: the normalisation section lies past the end of the file");
  for (uint32_t c = 0; c < 2 * ch; c++) {
    float v;
    memcpy(&v, f->buf + off + 4 * c, 4);
    if (!isfinite(v) || (c >= ch && !(v > 0)))
      return fail(f->path, "damaged: the normalisation section holds a non-finite mean or a std <= 0");
  }
  return 0;
}

static void norm_read(const File *f, int *channels, float *mean, float *std) {
  *channels = 0;
  if (f->version < 3)
    return;
  uint32_t ch = get_u32(f->buf + 156);
  uint64_t off = get_u64(f->buf + 160);
  memcpy(mean, f->buf + off, ch * 4);
  memcpy(std, f->buf + off + ch * 4, ch * 4);
  *channels = (int)ch;
}

int ckpt_load_norm(const char *path, int *channels, float *mean, float *std) {
  File f;
  int rc = file_open(&f, path) || norm_check(&f) ? -1 : 0;
  if (!rc)
    norm_read(&f, channels, mean, std);
  file_free(&f);
  return rc;
}

int ckpt_load(const char *path, NetModel *m, Optim *opt, CkptTrain *tr) {
  char msg[512];
  File f;
  if (file_open(&f, path))
    goto bad;
  for (int i = 0; i < m->n_tensors; i++)
    if (!match_tensor(&f, &m->tensors[i]))
      goto bad;
  if (f.n != (uint32_t)m->n_tensors) {
    snprintf(msg, sizeof msg, "the checkpoint has %u tensors, the model %s has %d",
             f.n, m->name, m->n_tensors);
    fail(path, msg);
    goto bad;
  }
  if (f.hash != m->structure_hash) {
    snprintf(msg, sizeof msg,
             "model structure hash differs (checkpoint %016llx, model %s %016llx): "
             "a checkpoint of another model",
             (unsigned long long)f.hash, m->name, (unsigned long long)m->structure_hash);
    fail(path, msg);
    goto bad;
  }
  if (opt) {
    if (f.optim_kind == CKPT_NO_OPTIM) {
      fail(path, "the checkpoint holds no optimizer state to resume from");
      goto bad;
    }
    if (f.optim_kind != (uint32_t)opt->cfg.kind || f.optim_count != (uint32_t)optim_state_count(opt) ||
        f.optim_n != opt->n) {
      snprintf(msg, sizeof msg,
               "optimizer state is for %s (%u arrays of %llu floats); this run uses %s (%d of %zu)",
               f.optim_kind <= OPTIM_RMSPROP ? optim_kind_name((OptimKind)f.optim_kind) : "?",
               f.optim_count, (unsigned long long)f.optim_n, optim_kind_name(opt->cfg.kind),
               optim_state_count(opt), opt->n);
      fail(path, msg);
      goto bad;
    }
  }
  if (norm_check(&f))
    goto bad;
  if (plateau_check(&f))
    goto bad;
  if (tr && get_u32(f.buf + 64) && get_u64(f.buf + 112)) {
    uint64_t best_off = get_u64(f.buf + 112);
    if (best_off > f.size - 4 || m->n_params > (f.size - 4 - best_off) / 4) {
      fail(path, "damaged: the best parameters lie past the end of the file");
      goto bad;
    }
  }
  // All checks passed: only now touch the model.
  for (int i = 0; i < m->n_tensors; i++) {
    const Entry *e = file_find(&f, m->tensors[i].name);
    memcpy(m->params + m->tensors[i].offset, f.buf + e->offset, e->numel * 4);
  }
  if (opt) {
    opt->step = f.optim_step;
    float *state[OPTIM_MAX_STATE];
    int nstate = optim_state_arrays(opt, state);   // == f.optim_count, checked above
    for (int k = 0; k < nstate; k++)
      memcpy(state[k], f.buf + f.optim_off + (size_t)k * opt->n * 4, opt->n * 4);
  }
  if (tr) {
    float *best = tr->best_params;
    memset(tr, 0, sizeof *tr);
    tr->best_params = best;
    if (get_u32(f.buf + 64)) {
      const unsigned char *h = f.buf;
      tr->epoch = (int32_t)get_u32(h + 68);
      tr->seed = get_u64(h + 72);
      tr->best_epoch = (int32_t)get_u32(h + 80);
      tr->since_best = (int32_t)get_u32(h + 84);
      tr->best_val_loss = get_f64(h + 88);
      tr->seconds = get_f64(h + 96);
      tr->images = get_f64(h + 104);
      uint64_t best_off = get_u64(h + 112);
      if (best && best_off) {
        memcpy(best, f.buf + best_off, m->n_params * 4);
        tr->has_best = 1;
      }
      norm_read(&f, &tr->norm_channels, tr->norm_mean, tr->norm_std);
      if (has_plateau(&f)) {
        tr->has_plateau = 1;
        plateau_read(&f, &tr->plateau);
      }
    }
  }
  file_free(&f);
  return 0;
bad:
  file_free(&f);
  return -1;
}

int ckpt_load_subset(const char *path, NetModel *m, const char *prefix) {
  File f;
  size_t plen = strlen(prefix);
  int count = 0;
  if (file_open(&f, path))
    goto bad;
  for (int i = 0; i < m->n_tensors; i++) {
    if (strncmp(m->tensors[i].name, prefix, plen) != 0)
      continue;
    if (!match_tensor(&f, &m->tensors[i]))
      goto bad;
    count++;
  }
  if (count == 0) {
    char msg[512];
    snprintf(msg, sizeof msg, "model %s has no tensor whose name starts with '%s'", m->name, prefix);
    fail(path, msg);
    goto bad;
  }
  for (int i = 0; i < m->n_tensors; i++) {
    if (strncmp(m->tensors[i].name, prefix, plen) != 0)
      continue;
    const Entry *e = file_find(&f, m->tensors[i].name);
    memcpy(m->params + m->tensors[i].offset, f.buf + e->offset, e->numel * 4);
  }
  file_free(&f);
  return count;
bad:
  file_free(&f);
  return -1;
}

// ---------------------------------------------------------------- without a model

void ckpt_file_free(CkptFile *cf) {
  for (int i = 0; cf->tensors && i < cf->n_tensors; i++) {
    free(cf->tensors[i].name);
    free(cf->tensors[i].data);
  }
  free(cf->tensors);
  free(cf->optim_state);
  free(cf->train.best_params);
  memset(cf, 0, sizeof *cf);
}

int ckpt_read(const char *path, CkptFile *cf) {
  char msg[512];
  File f;
  memset(cf, 0, sizeof *cf);
  if (file_open(&f, path))
    goto bad;
  // Names must be unique for the tensors to be told apart by name.
  for (uint32_t i = 0; i < f.n; i++)
    for (uint32_t j = 0; j < i; j++)
      if (!strcmp(f.e[i].name, f.e[j].name)) {
        snprintf(msg, sizeof msg, "damaged: tensor %s appears twice in the table", f.e[i].name);
        fail(path, msg);
        goto bad;
      }
  if (f.optim_kind != CKPT_NO_OPTIM && f.optim_kind > OPTIM_RMSPROP) {
    snprintf(msg, sizeof msg, "damaged: optimizer kind %u is not one this build knows", f.optim_kind);
    fail(path, msg);
    goto bad;
  }
  if (plateau_check(&f))
    goto bad;
  if (norm_check(&f))
    goto bad;
  uint64_t total = 0;
  for (uint32_t i = 0; i < f.n; i++)
    total += f.e[i].numel;      // each fits in the file (file_open), so no overflow
  uint64_t best_off = get_u32(f.buf + 64) ? get_u64(f.buf + 112) : 0;
  if (best_off && (best_off > f.size - 4 || total > (f.size - 4 - best_off) / 4)) {
    fail(path, "damaged: the best parameters lie past the end of the file");
    goto bad;
  }
  if (f.optim_kind != CKPT_NO_OPTIM && f.optim_n > total) {
    fail(path, "damaged: the optimizer state covers more floats than the tensors hold");
    goto bad;
  }
  cf->version = f.version;
  cf->size = f.size;
  cf->structure_hash = f.hash;
  cf->n_params = (size_t)total;
  cf->tensors = calloc(f.n ? f.n : 1, sizeof *cf->tensors);
  if (!cf->tensors) {
    fail(path, "out of memory");
    goto bad;
  }
  for (uint32_t i = 0; i < f.n; i++) {
    const Entry *e = &f.e[i];
    CkptTensor *t = &cf->tensors[i];
    cf->n_tensors = (int)i + 1;
    t->name = strdup(e->name);
    t->rank = e->rank;
    memcpy(t->dim, e->dim, sizeof t->dim);
    t->numel = (size_t)e->numel;
    t->data = malloc(e->numel ? e->numel * 4 : 1);
    if (!t->name || !t->data) {
      fail(path, "out of memory");
      goto bad;
    }
    memcpy(t->data, f.buf + e->offset, e->numel * 4);
  }
  if (f.optim_kind != CKPT_NO_OPTIM) {
    cf->has_optim = 1;
    cf->optim_kind = (int)f.optim_kind;
    cf->optim_arrays = (int)f.optim_count;
    cf->optim_step = f.optim_step;
    cf->optim_n = (size_t)f.optim_n;
    size_t bytes = (size_t)f.optim_n * f.optim_count * 4;
    if (bytes) {
      if (!(cf->optim_state = malloc(bytes))) {
        fail(path, "out of memory");
        goto bad;
      }
      memcpy(cf->optim_state, f.buf + f.optim_off, bytes);
    }
  }
  if (get_u32(f.buf + 64)) {
    const unsigned char *h = f.buf;
    CkptTrain *tr = &cf->train;
    cf->has_train = 1;
    tr->epoch = (int32_t)get_u32(h + 68);
    tr->seed = get_u64(h + 72);
    tr->best_epoch = (int32_t)get_u32(h + 80);
    tr->since_best = (int32_t)get_u32(h + 84);
    tr->best_val_loss = get_f64(h + 88);
    tr->seconds = get_f64(h + 96);
    tr->images = get_f64(h + 104);
    if (best_off) {
      if (!(tr->best_params = malloc(total ? total * 4 : 1))) {
        fail(path, "out of memory");
        goto bad;
      }
      memcpy(tr->best_params, f.buf + best_off, total * 4);
      tr->has_best = 1;
    }
    if (has_plateau(&f)) {
      tr->has_plateau = 1;
      plateau_read(&f, &tr->plateau);
    }
  }
  norm_read(&f, &cf->train.norm_channels, cf->train.norm_mean, cf->train.norm_std);
  file_free(&f);
  return 0;
bad:
  file_free(&f);
  ckpt_file_free(cf);
  return -1;
}
