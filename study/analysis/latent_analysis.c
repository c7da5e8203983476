// latent-analysis: the report's section 6 for two encoded test sets.
//
//   latent-analysis --ae-codes FILE --vae-codes FILE --out DIR
//                   [--threads N] [--seed S] [--note TEXT]
//
// For each model: PCA and t-SNE to 2-D, scatter plots coloured by digit
// (report Figures 9, 10, 12, 13), per-digit ellipses (Figures 11, 14) for
// both methods, the Table 1 statistic (mean over digits of |std axis 1 -
// std axis 2|) and the quality of each embedding (t-SNE KL divergence,
// trustworthiness with 5 neighbours, leave-one-out 10-NN digit accuracy).
// Writes into DIR: fig*.png, table1.md, table1.csv, quality.md,
// quality.csv and the embeddings (*.codes, format in codes.h).  --note is
// printed under every title and in the tables (e.g. "stand-in codes").
// Code files: study/analysis/codes.h (binary NETCODES or CSV).
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codes.h"
#include "ellipse.h"
#include "pca.h"
#include "plot.h"
#include "quality.h"
#include "tsne.h"

enum { PCA_METHOD, TSNE_METHOD };

typedef struct {
  const char *key, *name; // "ae", "autoencoder"
  int fig_pca, fig_tsne, fig_ellipse;
  double report[2];       // Table 1 of the report: PCA, t-SNE
} Model;

static const Model MODELS[2] = {
    {"ae", "autoencoder", 9, 10, 11, {3.4, 4.7}},
    {"vae", "VAE", 12, 13, 14, {0.07, 2.7}},
};
static const char *METHOD_KEY[2] = {"pca", "tsne"}, *METHOD_NAME[2] = {"PCA", "t-SNE"};

typedef struct {
  int done, n;
  double table1, trust5, knn10, kl, seconds, var_ratio;
} Result;

static const char *out_dir, *note;
static int threads = 2;
static uint64_t seed = 0;

static char *path_in(const char *file) {
  static char buf[4][4096];
  static int k;
  char *b = buf[k++ & 3];
  snprintf(b, sizeof buf[0], "%s/%s", out_dir, file);
  return b;
}

static int analyse(const Model *m, const Codes *c, int method, Result *r) {
  float *y = malloc((size_t)c->n * 2 * sizeof(float));
  if (!y)
    return -1;
  double t0 = omp_get_wtime();
  r->kl = -1;
  if (method == PCA_METHOD) {
    Pca p;
    if (c->d < 2 || pca_fit(&p, c->x, c->n, c->d, 2) != 0)
      return free(y), -1;
    pca_transform(&p, c->x, c->n, y);
    r->var_ratio = p.variance_ratio[0] + p.variance_ratio[1];
    pca_free(&p);
  } else {
    TsneOptions o;
    TsneStats st;
    tsne_defaults(&o);
    o.threads = threads, o.seed = seed;
    if (tsne_run(c->x, c->n, c->d, &o, y, &st) != 0)
      return free(y), -1;
    r->kl = st.kl;
  }
  r->seconds = omp_get_wtime() - t0;
  ClassSpread s[ELLIPSE_CLASSES];
  ellipse_stats(y, c->label, c->n, s);
  r->table1 = ellipse_table1(s);
  r->trust5 = quality_trustworthiness(c->x, c->d, y, 2, c->n, 5, threads);
  r->knn10 = quality_knn_accuracy(y, 2, c->label, c->n, 10, threads);
  r->done = 1;
  r->n = c->n;

  char file[256], title[256];
  const char *meth = METHOD_NAME[method];
  PlotOptions po = {.title = title, .note = note, .equal_aspect = 1};
  snprintf(title, sizeof title, "%s codes (%d-D, %d test images): %s",
           m->name, c->d, c->n, meth);
  po.xlabel = method == PCA_METHOD ? "principal component 1" : "t-SNE 1";
  po.ylabel = method == PCA_METHOD ? "principal component 2" : "t-SNE 2";
  snprintf(file, sizeof file, "fig%02d_%s_%s.png",
           method == PCA_METHOD ? m->fig_pca : m->fig_tsne, m->key,
           METHOD_KEY[method]);
  int rc = plot_scatter(path_in(file), y, c->label, c->n, &po);
  snprintf(title, sizeof title, "%s codes, %s: mean and std per digit "
           "(Table 1: %.3g)", m->name, meth, r->table1);
  snprintf(file, sizeof file, "fig%02d_%s_%s_ellipses.png", m->fig_ellipse,
           m->key, METHOD_KEY[method]);
  rc |= plot_ellipses(path_in(file), s, &po);
  Codes e = {c->n, 2, c->label, y};
  snprintf(file, sizeof file, "%s_%s.codes", m->key, METHOD_KEY[method]);
  rc |= codes_save(path_in(file), &e);
  free(y);
  printf("%-11s %-5s  table1=%-8.4g trust5=%.4f knn10=%.4f", m->name, meth,
         r->table1, r->trust5, r->knn10);
  if (method == TSNE_METHOD)
    printf(" kl=%.4f", r->kl);
  else
    printf(" var2=%.3f", r->var_ratio);
  printf("  (%.1f s)\n", r->seconds);
  return rc;
}

static int write_tables(const Result res[2][2]) {
  FILE *md = fopen(path_in("table1.md"), "w"), *csv = fopen(path_in("table1.csv"), "w");
  FILE *qmd = fopen(path_in("quality.md"), "w"), *qcsv = fopen(path_in("quality.csv"), "w");
  if (!md || !csv || !qmd || !qcsv) {
    fprintf(stderr, "%s: cannot write tables: %s\n", out_dir, strerror(errno));
    return -1;
  }
  fprintf(md, "# Table 1: mean over digits of |std axis 1 - std axis 2|\n\n");
  if (note)
    fprintf(md, "**%s**\n\n", note);
  fprintf(md, "| | AE PCA | AE t-SNE | VAE PCA | VAE t-SNE |\n|---|---|---|---|---|\n");
  fprintf(md, "| this run |");
  for (int m = 0; m < 2; m++)
    for (int k = 0; k < 2; k++)
      res[m][k].done ? fprintf(md, " %.3g |", res[m][k].table1) : fprintf(md, " - |");
  fprintf(md, "\n| report |");
  for (int m = 0; m < 2; m++)
    for (int k = 0; k < 2; k++)
      fprintf(md, " %g |", MODELS[m].report[k]);
  fprintf(md, "\n");
  fprintf(csv, "model,method,this_run,report\n");
  fprintf(qcsv, "model,method,n,table1,trustworthiness5,knn10_accuracy,kl,"
                "pca_variance_ratio,seconds\n");
  fprintf(qmd, "# Quality of the 2-D embeddings\n\n");
  if (note)
    fprintf(qmd, "**%s**\n\n", note);
  fprintf(qmd, "| model | method | trustworthiness (k=5) | 10-NN accuracy | "
               "KL | seconds |\n|---|---|---|---|---|---|\n");
  for (int m = 0; m < 2; m++)
    for (int k = 0; k < 2; k++) {
      const Result *r = &res[m][k];
      if (!r->done)
        continue;
      fprintf(csv, "%s,%s,%.6g,%g\n", MODELS[m].key, METHOD_KEY[k], r->table1,
              MODELS[m].report[k]);
      fprintf(qcsv, "%s,%s,%d,%.6g,%.6f,%.6f,%.6f,%.6f,%.3f\n", MODELS[m].key,
              METHOD_KEY[k], r->n, r->table1, r->trust5, r->knn10,
              k == TSNE_METHOD ? r->kl : 0.0, k == PCA_METHOD ? r->var_ratio : 0.0,
              r->seconds);
      char kl[32] = "-";
      if (k == TSNE_METHOD)
        snprintf(kl, sizeof kl, "%.4f", r->kl);
      fprintf(qmd, "| %s | %s | %.4f | %.4f | %s | %.1f |\n", MODELS[m].name,
              METHOD_NAME[k], r->trust5, r->knn10, kl, r->seconds);
    }
  int bad = ferror(md) | ferror(csv) | ferror(qmd) | ferror(qcsv);
  bad |= fclose(md) | fclose(csv) | fclose(qmd) | fclose(qcsv);
  return bad ? -1 : 0;
}

static int usage(void) {
  fprintf(stderr, "usage: latent-analysis --ae-codes FILE --vae-codes FILE "
                  "--out DIR [--threads N] [--seed S] [--note TEXT] (latent-analysis --help)\n");
  return 2;
}

static const char help[] =
    "usage: latent-analysis --ae-codes FILE --vae-codes FILE --out DIR\n"
    "                       [--threads N] [--seed S] [--note TEXT]\n"
    "\n"
    "The latent-space analysis of the report's section 6, for the test set encoded\n"
    "by an autoencoder and by a VAE (either may be left out): PCA and t-SNE to 2-D,\n"
    "scatter plots coloured by digit (Figures 9, 10, 12, 13), per-digit ellipses\n"
    "(Figures 11, 14), Table 1 (mean over digits of |std axis 1 - std axis 2|) and\n"
    "each embedding's quality (t-SNE KL divergence, trustworthiness with 5\n"
    "neighbours, leave-one-out 10-NN accuracy).\n"
    "\n"
    "options:\n"
    "  --ae-codes FILE      the autoencoder's codes: binary NETCODES or CSV\n"
    "                       (study/analysis/codes.h), e.g. a trainer's --predict code\n"
    "  --vae-codes FILE     the VAE's codes, same formats\n"
    "  --out DIR            output folder (created): fig*.png, table1.md, table1.csv,\n"
    "                       quality.md, quality.csv, the embeddings (*.codes)\n"
    "  --threads N          threads [2]\n"
    "  --seed S             t-SNE's seed [0]\n"
    "  --note TEXT          printed under every title and in the tables [none]\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 ok, 1 a code file cannot be read or an output written, 2 usage\n"
    "error.\n"
    "\n"
    "Example:\n"
    "  latent-analysis --ae-codes ae.codes --vae-codes vae.codes --out latent\n";

int main(int argc, char **argv) {
  const char *codes[2] = {NULL, NULL};
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
      fputs(help, stdout);
      return 0;
    }
    if (!strcmp(argv[a], "--ae-codes") && a + 1 < argc) codes[0] = argv[++a];
    else if (!strcmp(argv[a], "--vae-codes") && a + 1 < argc) codes[1] = argv[++a];
    else if (!strcmp(argv[a], "--out") && a + 1 < argc) out_dir = argv[++a];
    else if (!strcmp(argv[a], "--threads") && a + 1 < argc) threads = atoi(argv[++a]);
    else if (!strcmp(argv[a], "--seed") && a + 1 < argc) seed = strtoull(argv[++a], NULL, 10);
    else if (!strcmp(argv[a], "--note") && a + 1 < argc) note = argv[++a];
    else return usage();
  }
  if (!out_dir || (!codes[0] && !codes[1]))
    return usage();
  if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "%s: %s\n", out_dir, strerror(errno));
    return 1;
  }
  if (note)
    printf("note: %s\n", note);
  Result res[2][2] = {{{0}}};
  for (int m = 0; m < 2; m++) {
    if (!codes[m])
      continue;
    Codes c;
    if (codes_load(codes[m], &c) != 0)
      return 1;
    if (c.n < 20 || c.d < 2) {
      fprintf(stderr, "%s: need at least 20 codes of 2+ dims (got %d x %d)\n",
              codes[m], c.n, c.d);
      return 1;
    }
    for (int k = 0; k < 2; k++)
      if (analyse(&MODELS[m], &c, k, &res[m][k]) != 0) {
        fprintf(stderr, "latent-analysis: %s %s failed\n", MODELS[m].name,
                METHOD_NAME[k]);
        return 1;
      }
    codes_free(&c);
  }
  if (write_tables((const Result(*)[2])res) != 0)
    return 1;
  printf("\nTable 1 (mean over digits of |std1 - std2|)   this run   report\n");
  for (int m = 0; m < 2; m++)
    for (int k = 0; k < 2; k++)
      if (res[m][k].done)
        printf("  %-11s %-5s %30.4g %8g\n", MODELS[m].name, METHOD_NAME[k],
               res[m][k].table1, MODELS[m].report[k]);
  printf("wrote figures and tables to %s\n", out_dir);
  return 0;
}
