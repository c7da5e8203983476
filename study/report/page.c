// page.c — report-page OUT: writes OUT/index.html, the study as one page,
// from what run-report.sh left in OUT: run.txt (the configuration),
// stages/NAME.done|failed (status, wall time), results/NAME.json (each
// program's --json line), logs/NAME.log, the figures of search/,
// experiments/ and latent/, latent/table1.csv.  It also draws
// OUT/learning-curves.png from the trainings' CSV logs.
//
// The page references its images relatively (open it from disk, move the
// folder as a whole) and loads nothing else: CSS is inline, no script.  A
// figure whose stage did not finish is replaced by a note saying which
// stage failed, so the page never points at a missing file.  It is written
// to index.html.tmp and renamed, so a reader sees the old page or the new
// one, never half of one.
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "curves.h"
#include "files.h"

static const char *out_dir;
static FILE *html;

// ---- stages ------------------------------------------------------------------------

typedef struct {
  const char *name, *title;
  int done, failed, skipped;   // skipped: not run, a stage it needs did not finish
  double seconds, cpu_seconds;   // wall and CPU (user + system) time
  char *load;                    // the load average when it finished
  char *message, *log_tail;
} Stage;

static Stage STAGES[] = {
    {.name = "search", .title = "hyperparameter search"},
    {.name = "autoencoder", .title = "autoencoder training"},
    {.name = "denoiser", .title = "denoiser training"},
    {.name = "finetune", .title = "classifier on the frozen encoder"},
    {.name = "vae", .title = "variational autoencoder training"},
    {.name = "latent", .title = "latent-space analysis (PCA, t-SNE)"},
};
enum { N_STAGES = sizeof STAGES / sizeof STAGES[0] };

static Stage *stage(const char *name) {
  for (int i = 0; i < N_STAGES; i++)
    if (!strcmp(STAGES[i].name, name))
      return &STAGES[i];
  return NULL;
}

// The last n lines of text (a pointer into it).
static const char *tail_lines(const char *text, int n) {
  const char *p = text + strlen(text);
  if (p > text && p[-1] == '\n')
    p--;
  while (p > text && n > 0)
    if (*--p == '\n')
      n--;
  return p == text ? p : p + 1;
}

static void stages_load(void) {
  char name[256];
  for (int i = 0; i < N_STAGES; i++) {
    Stage *s = &STAGES[i];
    snprintf(name, sizeof name, "stages/%s.done", s->name);
    char *done = file_read(path_join(out_dir, name));
    snprintf(name, sizeof name, "stages/%s.failed", s->name);
    char *failed = done ? NULL : file_read(path_join(out_dir, name));
    char *kv = done ? done : failed;
    s->done = done != NULL;
    s->failed = failed != NULL;
    if (kv) {
      char *sec = kv_get(kv, "seconds"), *cpu = kv_get(kv, "cpu_seconds");
      s->seconds = sec ? atof(sec) : NAN;
      s->cpu_seconds = cpu ? atof(cpu) : NAN;   // markers from before it: none
      s->load = kv_get(kv, "load");
      free(sec), free(cpu);
    } else {
      s->seconds = s->cpu_seconds = NAN;
    }
    if (failed) {
      s->message = kv_get(failed, "message");
      char *exit = kv_get(failed, "exit");
      if (exit && !strcmp(exit, "-")) {
        s->failed = 0;
        s->skipped = 1;
      } else {   // it ran: show the end of its log
        snprintf(name, sizeof name, "logs/%s.log", s->name);
        char *log = file_read(path_join(out_dir, name));
        if (log) {
          s->log_tail = strdup(tail_lines(log, 20));
          free(log);
        }
      }
      free(exit);
    }
    free(done);
    free(failed);
  }
}

// ---- HTML helpers ------------------------------------------------------------------

static void put(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void put(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(html, fmt, ap);
  va_end(ap);
}

static void esc(const char *s) {
  for (; s && *s; s++)
    switch (*s) {
    case '<': fputs("&lt;", html); break;
    case '>': fputs("&gt;", html); break;
    case '&': fputs("&amp;", html); break;
    case '"': fputs("&quot;", html); break;
    default:
      // Control characters (progress bars' \r) would only garble a <pre>.
      if ((unsigned char)*s >= 32 || *s == '\n' || *s == '\t')
        fputc(*s, html);
      else if (*s == '\r')
        fputc('\n', html);
    }
}

static int fig_no;

// A figure produced by stage st at OUT/rel, or a note why it is missing.
static void figure(const char *st, const char *rel, const char *caption, const char *cls) {
  fig_no++;
  const Stage *s = st ? stage(st) : NULL;
  // Only a finished stage's files: a failed re-run may have left an older run's.
  // (st NULL: written by report-page itself, from finished stages only.)
  if ((!st || (s && s->done)) && file_exists(path_join(out_dir, rel))) {
    put("<figure class=\"%s\"><a href=\"%s\"><img src=\"%s\" alt=\"", cls ? cls : "", rel, rel);
    esc(caption);
    put("\"></a><figcaption><b>Figure %d.</b> ", fig_no);
    esc(caption);
    put("</figcaption></figure>\n");
    return;
  }
  put("<figure class=\"missing %s\"><div class=\"hole\">not produced: ", cls ? cls : "");
  if (s && s->failed)
    put("the stage <code>%s</code> failed (see <a href=\"#top\">the error</a>)", st);
  else if (s && s->skipped)
    put("the stage <code>%s</code> was not run: a stage it needs did not finish", st);
  else if (s && !s->done)
    put("the stage <code>%s</code> has not run", st);
  else if (st)
    put("<code>%s</code> is missing", rel);
  else
    put("no training has finished");
  put("</div><figcaption><b>Figure %d.</b> ", fig_no);
  esc(caption);
  put("</figcaption></figure>\n");
}

static char *result_json(const char *name) {
  if (!stage(name)->done)
    return NULL;   // a failed re-run may have left an older run's result
  char rel[256];
  snprintf(rel, sizeof rel, "results/%s.json", name);
  return file_read(path_join(out_dir, rel));
}

static void num_cell(double v, const char *fmt) {
  if (isnan(v))
    put("<td class=\"num na\">—</td>");
  else {
    put("<td class=\"num\">");
    put(fmt, v);
    put("</td>");
  }
}

// ---- the sections --------------------------------------------------------------------

static const char *CSS =
    "body{font:16px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "color:#1d2430;background:#f4f5f7;margin:0}"
    "main{max-width:1060px;margin:0 auto;padding:24px 28px 60px;background:#fff;"
    "box-shadow:0 0 24px rgba(0,0,0,.06)}"
    "header{border-bottom:3px solid #2a5db0;padding-bottom:10px;margin-bottom:18px}"
    "h1{font-size:30px;margin:8px 0 4px}h2{font-size:23px;margin:38px 0 10px;"
    "border-bottom:1px solid #dde1e7;padding-bottom:4px}h3{font-size:18px;margin:24px 0 8px}"
    ".sub{color:#5a6472;margin:0}"
    "table{border-collapse:collapse;margin:10px 0 16px;font-size:15px}"
    "th,td{border-bottom:1px solid #e3e6ea;padding:5px 12px;text-align:left;vertical-align:top}"
    "th{background:#eef2f8;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "td.na{color:#9aa3ad}"
    ".ok{color:#17803d;font-weight:600}.bad{color:#b42318;font-weight:600}.skip{color:#8a6d00}"
    ".banner{padding:10px 14px;border-radius:6px;margin:12px 0}"
    ".banner.good{background:#e8f5ec;border:1px solid #a6d9b5}"
    ".banner.fail{background:#fdecea;border:1px solid #f1aaa3}"
    ".error{background:#fdecea;border-left:4px solid #b42318;padding:8px 12px;margin:10px 0}"
    "pre{background:#f6f8fa;border:1px solid #e3e6ea;padding:10px;overflow:auto;font-size:13px;"
    "line-height:1.35;max-height:360px}"
    "code{font-family:'DejaVu Sans Mono',monospace;font-size:.92em}"
    ".figs{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}"
    "figure{margin:12px 0;flex:1 1 440px;max-width:100%}"
    "figure.wide{flex-basis:100%}figure.small{flex:0 1 420px}"
    "figure img{width:100%;height:auto;border:1px solid #e3e6ea;border-radius:4px;"
    "image-rendering:auto;background:#fff}"
    "figure.pixels img{image-rendering:pixelated}"
    "figcaption{font-size:14px;color:#4a5361;margin-top:4px}"
    ".hole{border:2px dashed #e0a39c;background:#fff7f6;color:#b42318;padding:40px 16px;"
    "text-align:center;border-radius:4px}"
    "details summary{cursor:pointer;color:#2a5db0}"
    "footer{margin-top:40px;color:#6b7480;font-size:13px}";

static void section_status(const char *run, const char *total) {
  int failed = 0, missing = 0;
  for (int i = 0; i < N_STAGES; i++) {
    failed += STAGES[i].failed;
    missing += !STAGES[i].done && !STAGES[i].failed;
  }
  put("<div id=\"top\"></div>\n");
  if (failed || missing) {
    put("<div class=\"banner fail\"><b>Incomplete run:</b> %d stage%s failed, %d not run. "
        "Re-running the same command retries them and reuses the finished ones.</div>\n",
        failed, failed == 1 ? "" : "s", missing);
    for (int i = 0; i < N_STAGES; i++) {
      const Stage *s = &STAGES[i];
      if (!s->failed && !s->skipped)
        continue;
      put("<div class=\"error\"><b>Stage <code>%s</code> (%s) %s:</b> ", s->name, s->title,
          s->failed ? "failed" : "was not run");
      esc(s->message ? s->message : "no message");
      if (s->log_tail) {
        put("<pre>");
        esc(s->log_tail);
        put("</pre>");
      }
      if (s->failed)
        put("<div>Full log: <a href=\"logs/%s.log\"><code>logs/%s.log</code></a></div>", s->name,
            s->name);
      put("</div>\n");
    }
  } else {
    put("<div class=\"banner good\"><b>Complete:</b> all %d stages finished", N_STAGES);
    if (total)
      put(" (this invocation: %s s of wall time)", total);
    put(".</div>\n");
  }
  (void)run;
}

static void section_results(void) {
  char *ae = result_json("autoencoder"), *dn = result_json("denoiser"),
       *ft = result_json("finetune"), *vae = result_json("vae");
  put("<h2 id=\"results\">Results next to the report's</h2>\n"
      "<table><tr><th>quantity</th><th>section</th><th>this run</th><th>report</th></tr>\n");
  struct { const char *what, *sec; double v, paper; const char *fmt; } rows[] = {
      {"autoencoder: test MSE", "2", json_num(ae, "test_mse"), 0.0164, "%.4f"},
      {"denoiser: test loss (MSE to the clean image)", "3", json_num(dn, "test_loss"), 0.03, "%.4f"},
      {"classifier on the frozen encoder: test accuracy", "4", json_num(ft, "test_accuracy"), 0.94, "%.4f"},
      {"variational autoencoder: test loss (MSE + &lambda; KL)", "5", json_num(vae, "test_loss"), 0.05, "%.4f"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    put("<tr><td>%s</td><td>%s</td>", rows[i].what, rows[i].sec);
    num_cell(rows[i].v, rows[i].fmt);
    num_cell(rows[i].paper, "%g");
    put("</tr>\n");
  }
  // Table 1 from latent-analysis: model,method,this_run,report.
  char *t1 = stage("latent")->done ? file_read(path_join(out_dir, "latent/table1.csv")) : NULL;
  static const char *const KEYS[4][3] = {{"ae", "pca", "autoencoder, PCA"},
                                         {"ae", "tsne", "autoencoder, t-SNE"},
                                         {"vae", "pca", "VAE, PCA"},
                                         {"vae", "tsne", "VAE, t-SNE"}};
  static const double PAPER[4] = {3.4, 4.7, 0.07, 2.7};
  for (int k = 0; k < 4; k++) {
    double v = NAN;
    char key[32];
    snprintf(key, sizeof key, "%s,%s,", KEYS[k][0], KEYS[k][1]);
    for (char *p = t1; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
      if (!strncmp(p, key, strlen(key)))
        v = strtod(p + strlen(key), NULL);
    put("<tr><td>Table 1: mean |std<sub>1</sub> &minus; std<sub>2</sub>|, %s</td><td>6</td>",
        KEYS[k][2]);
    num_cell(v, "%.3g");
    num_cell(PAPER[k], "%g");
    put("</tr>\n");
  }
  put("</table>\n<p class=\"sub\">The report trained on the full MNIST for up to 100 epochs; "
      "see the configuration below for this run's data and epochs.  Table 1's numbers depend on "
      "the scale of each embedding (PCA: the codes' units; t-SNE: its own), as in the report.</p>\n");
  // The full study's configuration as measured when it was chosen
  // (docs/full-mnist.md), so that a page of one run can be read against
  // the spread between seeds.
  put("<p class=\"sub\">Measured with the full study's configuration (full MNIST, "
      "2026-11-29, the shared 2-core development machine, AMD EPYC) at seeds 1 / 2 / 3: AE "
      "test MSE 0.01415 / 0.01377 / 0.01422, denoiser 0.0254 / 0.0251 / 0.0250, accuracy "
      "0.9640 / 0.9636 / 0.9619, VAE 0.0172 / 0.0174 / 0.0173; pipeline wall time 321 / 238 / "
      "321 s at load average 6&ndash;12 from other work, 185 / 94 / 97 s later at load "
      "1&ndash;4; CPU time of all stages 147&ndash;180 s (docs/full-mnist.md).</p>\n");
  free(ae);
  free(dn);
  free(ft);
  free(vae);
  free(t1);
}

static void section_config(const char *run, const char *total) {
  put("<h2 id=\"status\">The run</h2>\n<table>\n");
  static const char *const KEYS[][2] = {
      {"data", "data"}, {"epochs", "epochs (AE, denoiser, VAE)"},
      {"finetune_epochs", "epochs (classifier)"}, {"trials", "search: trials"},
      {"search_epochs", "search: epochs per trial"}, {"pruner", "search: pruner"},
      {"trainings", "trainings' options"}, {"seed", "seed (search and trainings)"},
      {"threads", "threads per program"}, {"netc", "netc"}, {"machine", "machine"},
      {"started", "started"}};
  for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
    char *v = run ? kv_get(run, KEYS[i][0]) : NULL;
    put("<tr><th>%s</th><td>", KEYS[i][1]);
    esc(v ? v : "?");
    put("</td></tr>\n");
    free(v);
  }
  put("</table>\n<h3>Stages</h3>\n<table><tr><th>stage</th><th>what</th><th>status</th>"
      "<th>wall time (s)</th><th>CPU time (s)</th><th>load at the end</th><th>log</th></tr>\n");
  double sum = 0, cpu_sum = 0;
  for (int i = 0; i < N_STAGES; i++) {
    const Stage *s = &STAGES[i];
    put("<tr><td><code>%s</code></td><td>%s</td><td class=\"%s\">%s</td>", s->name, s->title,
        s->done ? "ok" : s->failed ? "bad" : "skip",
        s->done ? "done" : s->failed ? "failed" : s->skipped ? "not run (needs a failed stage)" : "not run");
    num_cell(s->seconds, "%.0f");
    num_cell(s->cpu_seconds, "%.0f");
    put("<td>");
    esc(s->load ? s->load : "");
    put("</td>");
    if (!isnan(s->seconds))
      sum += s->seconds;
    if (!isnan(s->cpu_seconds))
      cpu_sum += s->cpu_seconds;
    char rel[128];
    snprintf(rel, sizeof rel, "logs/%s.log", s->name);
    if (file_exists(path_join(out_dir, rel)))
      put("<td><a href=\"%s\">%s.log</a></td></tr>\n", rel, s->name);
    else
      put("<td class=\"na\">—</td></tr>\n");
  }
  put("<tr><th colspan=\"3\">sum of the stages (when each last ran)</th>");
  num_cell(sum, "%.0f");
  num_cell(cpu_sum, "%.0f");
  put("<td></td><td></td></tr>\n</table>\n"
      "<p class=\"sub\">CPU time is user + system time of the stage's processes, all threads "
      "together: on a shared machine the wall time measures the load as well, the CPU time much "
      "less (the load average is the machine's, over the last 1, 5 and 15 minutes).</p>\n");
  if (total)
    put("<p class=\"sub\">This invocation of the pipeline took %s s (stages reused from an earlier "
        "run take no time).</p>\n", total);
}

static void section_search(void) {
  char *run = file_read(path_join(out_dir, "run.txt"));
  char *pruner = run ? kv_get(run, "pruner") : NULL;
  static const char *const PRUNERS[][2] = {
      {"median", "median pruner"}, {"sha", "successive-halving pruner"},
      {"hyperband", "Hyperband pruner"}, {"none", "no pruner"}};
  const char *pname = "median pruner";   // a run.txt from before the option
  for (size_t i = 0; pruner && i < sizeof PRUNERS / sizeof PRUNERS[0]; i++)
    if (!strcmp(pruner, PRUNERS[i][0]))
      pname = PRUNERS[i][1];
  put("<h2 id=\"s2\">2. Autoencoder</h2>\n"
      "<p>A convolutional autoencoder (<code>models/autoencoder.net</code>), its weight decay, "
      "optimiser (Adam or SGD with momentum), learning rate and latent size tuned by "
      "<code>netc-search</code> (TPE sampler and %s, as Optuna's) on the validation "
      "split, then trained with the report's configuration (latent size 9, Adam).</p>\n", pname);
  free(pruner);
  free(run);
  put("<h3>Hyperparameter search</h3>\n<div class=\"figs\">\n");
  figure("search", "search/history.png",
         "Optimisation history: validation loss of each trial, and the best so far (report's Figure 5).", NULL);
  figure("search", "search/intermediate.png",
         "Validation loss per epoch of every trial; pruned trials in red (report's Figure 6).", NULL);
  figure("search", "search/parallel.png",
         "Parallel coordinates of the trials' hyperparameters, coloured by validation loss (report's Figure 7).",
         "wide");
  put("</div>\n");
  // netc-search's summary line: "best: trial N, value V: name=value ...".
  char *log = file_read(path_join(out_dir, "logs/search.log"));
  const char *best = NULL;
  for (const char *p = log; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (!strncmp(p, "best: ", 6))
      best = p + 6;
  if (best && stage("search")->done) {
    const char *e = strchr(best, '\n');
    put("<p><b>Best trial:</b> <code>");
    char *line = strndup(best, e ? (size_t)(e - best) : strlen(best));
    esc(line);
    free(line);
    put("</code> (validation loss).</p>\n");
  }
  free(log);
  char *table = stage("search")->done ? file_read(path_join(out_dir, "search/table.txt")) : NULL;
  if (table) {
    put("<details><summary>The study's trials (<code>netc-search --show</code>)</summary><pre>");
    esc(table);
    put("</pre></details>\n");
    free(table);
  }
  put("<h3>Training</h3>\n<div class=\"figs\">\n");
  figure(NULL, "learning-curves.png",
         "Learning curves of the four trainings: training and validation loss per epoch.", "wide");
  figure("autoencoder", "experiments/autoencoder-reconstructions.png",
         "Test images (rows 1, 3, 5) above their reconstructions by the autoencoder (report's Figure 8).",
         "pixels");
  put("</div>\n");
}

static void section_rest(void) {
  char *dn = result_json("denoiser"), *ft = result_json("finetune"), *vae = result_json("vae");
  put("<h2 id=\"s3\">3. Denoiser</h2>\n<p>The same networks trained to reconstruct clean images "
      "from noisy ones (per image &mu; ~ N(0,1), &sigma; = |N(0.5,0.5)|, every pixel + "
      "N(&mu;,&sigma;<sup>2</sup>)).");
  if (!isnan(json_num(dn, "noisy_input_mse")))
    put(" MSE of the noisy inputs to the clean images: %.4f; after denoising: %.4f.",
        json_num(dn, "noisy_input_mse"), json_num(dn, "test_loss"));
  put("</p>\n<div class=\"figs\">\n");
  figure("denoiser", "experiments/denoiser-triplets.png",
         "Originals, noisy inputs and denoised outputs, in blocks of three rows (report's Figure 3).",
         "pixels");
  put("</div>\n<h2 id=\"s4\">4. Fine tuning</h2>\n<p>The autoencoder's encoder, frozen, under a "
      "new hidden layer of 64 and an output layer of 10, trained with the negative log "
      "likelihood and early stopping.");
  if (!isnan(json_num(ft, "test_accuracy")))
    put(" Test accuracy %.4f after %.0f epochs (best epoch %.0f); the encoder's tensors %s.",
        json_num(ft, "test_accuracy"), json_num(ft, "epochs"), json_num(ft, "best_epoch"),
        json_num(ft, "encoder_unchanged") == 1 ? "are bit-identical to the autoencoder's"
                                                : "were compared with the autoencoder's");
  put("</p>\n<div class=\"figs\">\n");
  figure("finetune", "experiments/classifier-confusion.png",
         "Confusion matrix of the test set (row: true digit, column: predicted).", "small pixels");
  put("</div>\n<h2 id=\"s5\">5. Variational autoencoder</h2>\n<p>Encoder outputs &mu; and "
      "log &sigma;<sup>2</sup>, z = &mu; + &zeta;&sigma;, loss MSE + &lambda; KL with the "
      "report's &lambda;");
  if (!isnan(json_num(vae, "lambda")))
    put(" = %g. Test MSE %.4f, KL %.4g.", json_num(vae, "lambda"), json_num(vae, "test_mse"),
        json_num(vae, "test_kl"));
  else
    put(".");
  put("</p>\n<div class=\"figs\">\n");
  figure("vae", "experiments/vae-traversal.png",
         "Figure 4 by the report's rule: a test \"6\" (first tile), then decoded with its 0-th "
         "latent component z0 replaced by z0 (1 + k/5), k = 0..10 (steps of 1/5 of its own value).",
         "pixels");
  figure("vae", "experiments/vae-traversal-spread.png",
         "What each component encodes: the same \"6\" (first column), then row j decoded with "
         "component j swept from its test-set mean − 3 sd to mean + 3 sd in 11 steps, the "
         "other components kept at the 6's code (row 1 is z0, the report's component).", "pixels");
  put("</div>\n");
  if (!isnan(json_num(vae, "z0_test_sd")))
    put("<p class=\"sub\">The two panels of Figure 4: the report's rule moves z0 by fifths of the "
        "6's own value, here z0 = %.3f, so it spans %.3f in all, while z0 spreads over the test set "
        "with mean %.3f and sd %.3f; the second panel sweeps that spread (&plusmn;3 sd), which shows "
        "what the component encodes.</p>\n",
        json_num(vae, "traversal_z0"), 2 * fabs(json_num(vae, "traversal_z0")),
        json_num(vae, "z0_test_mean"), json_num(vae, "z0_test_sd"));
  free(dn);
  free(ft);
  free(vae);
}

static void section_latent(void) {
  put("<h2 id=\"s6\">6. Encoded space</h2>\n<p>The test set encoded by the autoencoder and by "
      "the VAE (&mu;), reduced to two dimensions with PCA and with t-SNE (Barnes&ndash;Hut, "
      "scikit-learn's defaults), coloured by digit; ellipses centred on each digit's mean with "
      "its standard deviations as axes.</p>\n<h3>Autoencoder</h3>\n<div class=\"figs\">\n");
  figure("latent", "latent/fig09_ae_pca.png", "Autoencoder codes, PCA (report's Figure 9).", NULL);
  figure("latent", "latent/fig10_ae_tsne.png", "Autoencoder codes, t-SNE (report's Figure 10).", NULL);
  figure("latent", "latent/fig11_ae_pca_ellipses.png", "Autoencoder, PCA: per-digit ellipses (report's Figure 11).", NULL);
  figure("latent", "latent/fig11_ae_tsne_ellipses.png", "Autoencoder, t-SNE: per-digit ellipses (report's Figure 11).", NULL);
  put("</div>\n<h3>Variational autoencoder</h3>\n<div class=\"figs\">\n");
  figure("latent", "latent/fig12_vae_pca.png", "VAE codes, PCA (report's Figure 12).", NULL);
  figure("latent", "latent/fig13_vae_tsne.png", "VAE codes, t-SNE (report's Figure 13).", NULL);
  figure("latent", "latent/fig14_vae_pca_ellipses.png", "VAE, PCA: per-digit ellipses (report's Figure 14).", NULL);
  figure("latent", "latent/fig14_vae_tsne_ellipses.png", "VAE, t-SNE: per-digit ellipses (report's Figure 14).", NULL);
  put("</div>\n<h3>Table 1</h3>\n<p>Mean over the digits of |standard deviation along axis 1 "
      "&minus; along axis 2|: the VAE's ellipses should be rounder.</p>\n");
  char *t1 = stage("latent")->done ? file_read(path_join(out_dir, "latent/table1.csv")) : NULL;
  if (t1) {
    put("<table><tr><th></th><th>AE PCA</th><th>AE t-SNE</th><th>VAE PCA</th><th>VAE t-SNE</th></tr>\n");
    static const char *const KEYS[4] = {"ae,pca,", "ae,tsne,", "vae,pca,", "vae,tsne,"};
    for (int row = 0; row < 2; row++) {
      put("<tr><th>%s</th>", row ? "report" : "this run");
      for (int k = 0; k < 4; k++) {
        double v = NAN;
        for (char *p = t1; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
          if (!strncmp(p, KEYS[k], strlen(KEYS[k]))) {
            char *q = p + strlen(KEYS[k]);
            v = strtod(q, &q);
            if (row)
              v = *q == ',' ? strtod(q + 1, NULL) : NAN;
          }
        num_cell(v, "%.3g");
      }
      put("</tr>\n");
    }
    put("</table>\n");
    free(t1);
  } else {
    figure("latent", "latent/table1.csv", "Table 1.", NULL);
  }
  char *q = stage("latent")->done ? file_read(path_join(out_dir, "latent/quality.md")) : NULL;
  if (q) {
    put("<details><summary>Quality of the embeddings (trustworthiness, 10-NN accuracy, t-SNE KL)"
        "</summary><pre>");
    esc(q);
    put("</pre></details>\n");
    free(q);
  }
  put("<h3>Sampling the encoded space</h3>\n<div class=\"figs\">\n");
  figure("vae", "experiments/samples.png",
         "Images decoded from the same 64 draws z ~ N(0, I): by the autoencoder's decoder on the "
         "left (report's Figure 15), by the VAE's on the right (report's Figure 16).", "wide pixels");
  put("</div>\n");
}

// ---- main -----------------------------------------------------------------------------

int main(int argc, char **argv) {
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: report-page OUT\n  writes OUT/index.html from what run-report.sh "
                    "left in OUT (and OUT/learning-curves.png)\n");
    return 2;
  }
  out_dir = argv[1];
  char *run = file_read(path_join(out_dir, "run.txt"));
  if (!run) {
    fprintf(stderr, "report-page: %s: %s (not a pipeline output folder?)\n",
            path_join(out_dir, "run.txt"), strerror(errno));
    return 1;
  }
  char *rt = file_read(path_join(out_dir, "run-time.txt"));
  char *total = rt ? kv_get(rt, "total") : NULL;
  stages_load();

  // The learning curves, when at least one training left a log.
  static const char *const TITLES[CURVES_N] = {"autoencoder (MSE)", "denoiser (MSE)",
                                               "classifier (NLL)", "VAE (MSE + \xce\xbb KL)"};
  static const char *const LOGS[CURVES_N] = {"experiments/autoencoder.csv", "experiments/denoiser.csv",
                                             "experiments/classifier.csv", "experiments/vae.csv"};
  static const char *const OWNER[CURVES_N] = {"autoencoder", "denoiser", "finetune", "vae"};
  Curve cv[CURVES_N];
  const Curve *cp[CURVES_N];
  int any = 0;
  for (int i = 0; i < CURVES_N; i++) {
    // Only finished stages: a failed one's log may hold a partial run.
    int ok = stage(OWNER[i])->done && curve_load(path_join(out_dir, LOGS[i]), &cv[i]) == 0;
    cp[i] = ok ? &cv[i] : NULL;
    any |= ok;
  }
  const char *curves = path_join(out_dir, "learning-curves.png");
  remove(curves);
  if (any && curves_plot(curves, TITLES, cp))
    fprintf(stderr, "report-page: %s: cannot write the learning curves\n", curves);
  for (int i = 0; i < CURVES_N; i++)
    if (cp[i])
      curve_free(&cv[i]);

  char tmp[4200], final[4096];
  snprintf(final, sizeof final, "%s", path_join(out_dir, "index.html"));
  snprintf(tmp, sizeof tmp, "%s.tmp", final);
  html = fopen(tmp, "w");
  if (!html) {
    fprintf(stderr, "report-page: %s: %s\n", tmp, strerror(errno));
    return 1;
  }
  char *data = kv_get(run, "data");
  put("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>netc: unsupervised deep learning on MNIST, reproduced</title>\n"
      "<link rel=\"icon\" href=\"data:,\">\n<style>%s</style>\n</head>\n<body>\n<main>\n", CSS);
  put("<header><h1>Unsupervised deep learning on MNIST, reproduced with netc</h1>\n"
      "<p class=\"sub\">Autoencoder, denoiser, transfer learning and variational autoencoder "
      "(M. Ballarin's study), every network compiled ahead of time to C by <code>netc</code>. "
      "Data: ");
  esc(data ? data : "?");
  put(".</p></header>\n");
  free(data);
  section_status(run, total);
  put("<nav class=\"sub\"><a href=\"#results\">Results</a> &middot; <a href=\"#status\">The run</a> "
      "&middot; <a href=\"#s2\">2 Autoencoder</a> &middot; <a href=\"#s3\">3 Denoiser</a> &middot; "
      "<a href=\"#s4\">4 Fine tuning</a> &middot; <a href=\"#s5\">5 VAE</a> &middot; "
      "<a href=\"#s6\">6 Encoded space</a></nav>\n");
  section_results();
  section_config(run, total);
  section_search();
  section_rest();
  section_latent();
  time_t now = time(NULL);
  char when[64];
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
  put("<footer>Written by <code>report-page</code> (study/report) at %s. "
      "Reproduce: <code>bash .ci/install-deps &amp;&amp; cmake --workflow --preset main</code>."
      "</footer>\n</main>\n</body>\n</html>\n", when);
  int bad = ferror(html);
  bad |= fflush(html) != 0 || fsync(fileno(html)) != 0;
  bad |= fclose(html) != 0;
  if (bad || rename(tmp, final)) {
    fprintf(stderr, "report-page: %s: %s\n", bad ? tmp : final, strerror(errno));
    remove(tmp);
    return 1;
  }
  printf("report-page: %s\n", final);
  free(run);
  free(rt);
  free(total);
  return 0;
}
