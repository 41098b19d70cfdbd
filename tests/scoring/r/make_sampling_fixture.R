# Reference values for a probability sample of dossiers, from R's survey package.
#
#   Rscript tests/scoring/r/make_sampling_fixture.R   (from the repository root)
#
# Simulates a one-stop frame (agency x procedure field strata, dossiers received online or at
# the desk), draws a Poisson sample with unequal inclusion probabilities within strata (online
# dossiers at 1.5 times the stratum's base probability; one small stratum taken whole), lets
# citizens answer the SIPAS 2023 form with response rates that differ by agency and channel,
# and writes
#   tests/scoring/fixtures/sampling_sample.csv    every selected dossier: stratum, agency, field,
#                                                  channel, pi, N (frame dossiers of the stratum),
#                                                  responded, days, late, the answers
#   tests/scoring/fixtures/sampling_frame.csv     frame dossiers by agency, field, channel (N)
#   tests/scoring/fixtures/sampling_weights.csv   R's weights of every design (respondent rows)
#   tests/scoring/fixtures/sampling_expected.csv  every node of the tree (tree_reference.R),
#                                                  overall, by agency and by channel
#   tests/scoring/fixtures/sampling_estimates_expected.csv
#                                                  svymean(~days), svytotal(~late),
#                                                  svyratio(~late, ~one) overall and by agency:
#                                                  design, name, domain, level, estimate, se, df,
#                                                  deff
# Designs (respondents only):
#   probs        svydesign(ids=~1, strata=~stratum, probs=~pi)
#   probs_fpc    the same with fpc=~N
#   nonresponse  postStratify(probs_fpc, ~class, totals of 1/pi over every selected dossier of
#                each class): weights w * sum_sampled w / sum_respondents w within class
#   cal_linear   calibrate(nonresponse, ~agency + field, frame totals)            (GREG)
#   cal_raking   calibrate(nonresponse, ~agency + field + channel, frame totals, calfun="raking")
#   cal_bounded  calibrate(nonresponse, ~agency + field + channel, frame totals,
#                bounds=c(0.925, 1.025)): g-weights on both bounds
#   cal_rake_bounded  the raking with the same bounds
#   cal_cross    calibrate(probs_fpc, ~agency:field - 1, frame totals)             (linear)
#   cal_cross_raking  calibrate(probs_fpc, ~agency:field, frame totals, calfun="raking")
#   cal_trimmed  trimWeights(calibrate(probs_fpc, ~agency, frame totals), upper = 20): weights
#                changed after calibration, no longer constant multiples within its cells
# and records that calibrate(nonresponse, ~agency + field, bounds=c(0.97, 1.03)) fails.
source("tests/scoring/r/tree_reference.R")
out_dir <- "tests/scoring/fixtures"
options(survey.lonely.psu = "fail")
setup <- tree_setup()
set.seed(20261207)

# ------------------------------------------------------------------- frame
agencies <- c("A", "B", "C", "D")
fields <- c("F1", "F2", "F3")
strata <- expand.grid(agency = agencies, field = fields, stringsAsFactors = FALSE)
strata$N <- c(900, 420, 1600, 260, 700, 380, 1200, 25, 540, 300, 980, 160)
strata$base <- c(0.10, 0.18, 0.06, 0.30, 0.12, 0.20, 0.08, 1, 0.14, 0.22, 0.09, 0.35)
strata$stratum <- paste(strata$agency, strata$field, sep = ".")
frame <- do.call(rbind, lapply(seq_len(nrow(strata)), function(h) {
  s <- strata[h, ]
  data.frame(stratum = s$stratum, agency = s$agency, field = s$field, N = s$N,
             channel = ifelse(runif(s$N) < 0.35, "online", "desk"), base = s$base,
             stringsAsFactors = FALSE)
}))
frame$pi <- pmin(1, frame$base * ifelse(frame$channel == "online", 1.5, 1))
counts <- aggregate(list(N = rep(1, nrow(frame))), frame[, c("agency", "field", "channel")], sum)
counts <- counts[order(counts$agency, counts$field, counts$channel), ]
write.csv(counts, file.path(out_dir, "sampling_frame.csv"), row.names = FALSE)

# ------------------------------------------------------------------ sample
sample <- frame[runif(nrow(frame)) < frame$pi, ]
n <- nrow(sample)
sample$class <- paste(sample$agency, sample$channel, sep = ".")
rate <- c(A = 0.55, B = 0.45, C = 0.6, D = 0.5)[sample$agency] +
  ifelse(sample$channel == "online", 0.15, -0.05)
sample$responded <- as.integer(runif(n) < rate)
sample$days <- round(rgamma(n, 3, 0.4), 1)
sample$late <- as.integer(sample$days > 10)
sample$one <- 1
effect <- c(A = 0.3, B = -0.2, C = 0.1, D = -0.4)[sample$agency] +
  ifelse(sample$channel == "online", 0.25, 0) - 0.05 * sample$days
latent <- effect + rnorm(n, 0, 0.7)
sample <- simulate_answers(sample, latent, setup, 0.5, sample$responded == 1)
sample$base <- NULL
rownames(sample) <- NULL
write.csv(sample, file.path(out_dir, "sampling_sample.csv"), row.names = FALSE, na = "")

# ----------------------------------------------------------------- designs
resp <- add_indicators(sample[sample$responded == 1, ], setup)
rownames(resp) <- NULL
probs <- svydesign(ids = ~1, strata = ~stratum, probs = ~pi, data = resp)
probs_fpc <- svydesign(ids = ~1, strata = ~stratum, probs = ~pi, fpc = ~N, data = resp)
class_totals <- aggregate(list(Freq = 1 / sample$pi), list(class = sample$class), sum)
nonresponse <- postStratify(probs_fpc, ~class, class_totals)

frame_mm <- function(formula) colSums(model.matrix(formula, frame))
pop_af <- frame_mm(~agency + field)
pop_afc <- frame_mm(~agency + field + channel)
pop_cross <- frame_mm(~agency:field - 1)
pop_cross_int <- frame_mm(~agency:field)
designs <- list(
  probs = probs,
  probs_fpc = probs_fpc,
  nonresponse = nonresponse,
  cal_linear = calibrate(nonresponse, ~agency + field, pop_af),
  cal_raking = calibrate(nonresponse, ~agency + field + channel, pop_afc, calfun = "raking"),
  cal_bounded = calibrate(nonresponse, ~agency + field + channel, pop_afc,
                          bounds = c(0.925, 1.025)),
  cal_rake_bounded = calibrate(nonresponse, ~agency + field + channel, pop_afc,
                               calfun = "raking", bounds = c(0.925, 1.025)),
  cal_cross = calibrate(probs_fpc, ~agency:field - 1, pop_cross),
  cal_cross_raking = calibrate(probs_fpc, ~agency:field, pop_cross_int, calfun = "raking")
)
designs$cal_trimmed <- trimWeights(calibrate(probs_fpc, ~agency, frame_mm(~agency)), upper = 20)
# the bounds bind: some g-weights sit on them
for (nm in c("cal_bounded", "cal_rake_bounded")) {
  g <- weights(designs[[nm]]) / weights(nonresponse)
  stopifnot(any(abs(g - 0.925) < 1e-9), any(abs(g - 1.025) < 1e-9))
}
failed <- inherits(try(calibrate(nonresponse, ~agency + field, pop_af, bounds = c(0.97, 1.03)),
                       silent = TRUE), "try-error")
stopifnot(failed)
write.csv(as.data.frame(lapply(designs, function(d) num(weights(d)))),
          file.path(out_dir, "sampling_weights.csv"), row.names = FALSE)

# ------------------------------------------------------------- estimates
est <- list()
put <- function(...) est[[length(est) + 1]] <<- data.frame(..., stringsAsFactors = FALSE)
for (dname in names(designs)) {
  des <- designs[[dname]]
  doms <- c(list(overall = list(all = rep(TRUE, nrow(resp)))),
            list(agency = setNames(lapply(agencies, function(a) resp$agency == a), agencies)))
  for (by in names(doms)) for (lev in names(doms[[by]])) {
    sub <- des[doms[[by]][[lev]], ]
    stats <- list(days = svymean(~days, sub, deff = "replace"),
                  late = svytotal(~late, sub, deff = "replace"),
                  "late/one" = svyratio(~late, ~one, sub, deff = "replace"))
    for (name in names(stats)) {
      s <- stats[[name]]
      put(design = dname, name = name, domain = by, level = lev, estimate = num(coef(s)),
          se = num(SE(s)), df = degf(sub), deff = num(deff(s)))
    }
  }
}
write.csv(do.call(rbind, est), file.path(out_dir, "sampling_estimates_expected.csv"),
          row.names = FALSE)

rows <- lapply(names(designs), function(d) tree_rows(d, designs[[d]], resp, setup,
                                                      c("agency", "channel")))
expected <- do.call(rbind, rows)
write.csv(expected, file.path(out_dir, "sampling_expected.csv"), row.names = FALSE, na = "")
cat("wrote", nrow(sample), "selected dossiers,", nrow(resp), "respondents,", nrow(expected),
    "tree rows for", length(designs), "designs\n")
