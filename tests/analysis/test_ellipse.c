// The per-digit spread and the Table 1 statistic on data of known spread:
// exactly, on a symmetric pattern, and statistically, on Gaussian samples.
#include "check.h"
#include "ellipse.h"

int main(void) {
  // Class c: the four points (mx +- a_c, my +- b_c): mean (mx, my), std
  // exactly (a_c, b_c) (ddof 0); class 9 absent; a stray label -1 ignored.
  enum { M = 9 * 4 + 1 };
  float y[2 * M];
  int lab[M];
  double want = 0;
  for (int c = 0; c < 9; c++) {
    double a = 0.5 + c, b = 2.0, mx = 10.0 * c, my = -3.0;
    want += fabs(a - b) / 9;
    for (int k = 0; k < 4; k++) {
      int i = 4 * c + k;
      lab[i] = c;
      y[2 * i] = (float)(mx + (k & 1 ? a : -a));
      y[2 * i + 1] = (float)(my + (k & 2 ? b : -b));
    }
  }
  lab[M - 1] = -1, y[2 * (M - 1)] = 1e6f, y[2 * (M - 1) + 1] = -1e6f;
  ClassSpread s[ELLIPSE_CLASSES];
  ellipse_stats(y, lab, M, s);
  double worst = 0;
  for (int c = 0; c < 9; c++) {
    CHECK(s[c].count == 4, "count %d", s[c].count);
    worst = fmax(worst, fabs(s[c].mean[0] - 10.0 * c) + fabs(s[c].mean[1] + 3));
    worst = fmax(worst, fabs(s[c].std[0] - (0.5 + c)) + fabs(s[c].std[1] - 2));
  }
  CHECK(s[9].count == 0, "class 9 should be absent");
  double t = ellipse_table1(s);
  printf("ellipse: exact pattern: max error of mean/std %.2e, Table 1 %.6f "
         "(want %.6f)\n", worst, t, want);
  CHECK(worst < 1e-5, "%g", worst);
  CHECK(fabs(t - want) < 1e-5, "%g vs %g", t, want);

  // Gaussian samples with std (1 + c/3, 3 - c/4): |difference| known.
  enum { PER = 20000, N = 10 * PER };
  static float g[2 * N];
  static int gl[N];
  want = 0;
  for (int i = 0; i < N; i++) {
    Rng r = rng_stream(21, (uint64_t)i);
    int c = i % 10;
    gl[i] = c;
    g[2 * i] = (float)(5 * c + (1 + c / 3.0) * rng_normal(&r));
    g[2 * i + 1] = (float)(-2 * c + (3 - c / 4.0) * rng_normal(&r));
  }
  for (int c = 0; c < 10; c++)
    want += fabs((1 + c / 3.0) - (3 - c / 4.0)) / 10;
  ellipse_stats(g, gl, N, s);
  t = ellipse_table1(s);
  printf("ellipse: Gaussian samples (%d per digit): Table 1 %.4f (want %.4f, "
         "rel. diff %.1e)\n", PER, t, want, fabs(t - want) / want);
  CHECK(fabs(t - want) / want < 0.02, "%g vs %g", t, want); // ~5 sampling sd
  return t_finish("test_ellipse");
}
