# Reference values for multistage designs with a finite population correction at each stage.
#
#   Rscript tests/scoring/r/make_multistage_fixture.R   (from the repository root)
#
# Simulates a PAPI-style household sample: provinces are strata; districts (stage 1) are
# drawn from each province, all three of province P1 (certainty: N1 = n1); communes (stage 2)
# from each district, two urban and two rural (one urban in district P2-D2); households
# (stage 3) from each commune. Answers to the SIPAS 2023 form carry district and commune
# effects. Writes
#   tests/scoring/fixtures/multistage_data.csv      the sample: province, district, commune,
#                                                    area, household, N1, N2, N2a, N3, w, sex,
#                                                    age, the answers
#   tests/scoring/fixtures/multistage_expected.csv  every node of the tree (tree_reference.R),
#                                                    overall, by province and by sex
#   tests/scoring/fixtures/multistage_estimates_expected.csv
#                                                    svymean(~age), svytotal(~age) overall and by
#                                                    province: design, name, domain, level,
#                                                    estimate, se, df, deff
# Designs (R's default multistage variance, options(survey.ultimate.cluster = FALSE)):
#   two_stage        svydesign(ids=~district+commune, strata=~province, fpc=~N1+N2, weights=~w)
#   three_stage      svydesign(ids=~district+commune+household, strata=~province,
#                              fpc=~N1+N2+N3): weights from the fpc
#   ultimate         svydesign(ids=~district+commune, strata=~province, weights=~w): no fpc,
#                    first stage only (with replacement)
#   calibrated       calibrate(two_stage, ~sex, population totals)
#   lonely_<policy>  svydesign(ids=~district+commune, strata=~province+area, fpc=~N1+N2a,
#                    weights=~w) under survey.lonely.psu = adjust, certainty, remove, average:
#                    stage-2 stratum (P2-D2, urban) has one sampled commune; under "fail" R stops.
source("tests/scoring/r/tree_reference.R")
out_dir <- "tests/scoring/fixtures"
setup <- tree_setup()
set.seed(20261209)

# ----------------------------------------------------------------- sample
provinces <- data.frame(province = c("P1", "P2", "P3"), n1 = c(3, 4, 3), N1 = c(3, 12, 9))
rows <- list()
for (p in seq_len(nrow(provinces))) {
  pv <- provinces[p, ]
  for (d in seq_len(pv$n1)) {
    district <- sprintf("%s-D%d", pv$province, d)
    d_effect <- rnorm(1, 0, 0.5)
    urban <- if (district == "P2-D2") 1 else 2
    n_urban <- sample(3:6, 1)
    n_rural <- sample(4:10, 1)
    for (c in seq_len(urban + 2)) {
      area <- if (c <= urban) "urban" else "rural"
      c_effect <- rnorm(1, 0, 0.3)
      N3 <- sample(150:600, 1)
      m <- sample(6:10, 1)
      rows[[length(rows) + 1]] <- data.frame(
        province = pv$province, district = district, commune = sprintf("C%d", c), area = area,
        household = sprintf("H%02d", seq_len(m)), N1 = pv$N1, N2 = n_urban + n_rural,
        N2a = if (area == "urban") n_urban else n_rural, N3 = N3,
        w = (pv$N1 / pv$n1) * ((n_urban + n_rural) / (urban + 2)) * (N3 / m),
        effect = d_effect + c_effect, stringsAsFactors = FALSE)
    }
  }
}
dat <- do.call(rbind, rows)
n <- nrow(dat)
dat$sex <- sample(c("F", "M"), n, replace = TRUE)
dat$age <- round(runif(n, 18, 80))
latent <- dat$effect + ifelse(dat$sex == "F", 0.2, -0.1) + rnorm(n, 0, 0.7)
dat <- simulate_answers(dat, latent, setup, 0.6)
dat$effect <- NULL
write.csv(dat, file.path(out_dir, "multistage_data.csv"), row.names = FALSE, na = "")
dat <- add_indicators(dat, setup)

# ---------------------------------------------------------------- designs
pop_sex <- c("(Intercept)" = round(sum(dat$w)), sexM = round(0.48 * sum(dat$w)))
designs <- list(
  two_stage = svydesign(ids = ~district + commune, strata = ~province, fpc = ~N1 + N2,
                        weights = ~w, data = dat),
  three_stage = svydesign(ids = ~district + commune + household, strata = ~province,
                          fpc = ~N1 + N2 + N3, data = dat),
  ultimate = svydesign(ids = ~district + commune, strata = ~province, weights = ~w, data = dat)
)
designs$calibrated <- calibrate(designs$two_stage, ~sex, pop_sex)
stopifnot(isTRUE(all.equal(as.numeric(weights(designs$three_stage)), dat$w)))
lonely <- function() svydesign(ids = ~district + commune, strata = ~province + area,
                               fpc = ~N1 + N2a, weights = ~w, data = dat)
options(survey.lonely.psu = "fail")
stopifnot(inherits(try(svymean(~age, lonely()), silent = TRUE), "try-error"))

est <- list()
put <- function(...) est[[length(est) + 1]] <<- data.frame(..., stringsAsFactors = FALSE)
tree <- list()
policies <- c(two_stage = "fail", three_stage = "fail", ultimate = "fail", calibrated = "fail",
              lonely_adjust = "adjust", lonely_certainty = "certainty",
              lonely_remove = "remove", lonely_average = "average")
for (dname in names(policies)) {
  options(survey.lonely.psu = policies[[dname]])
  des <- if (startsWith(dname, "lonely")) lonely() else designs[[dname]]
  doms <- c(list(overall = list(all = rep(TRUE, n))),
            list(province = setNames(lapply(provinces$province, function(p) dat$province == p),
                                     provinces$province)))
  for (by in names(doms)) for (lev in names(doms[[by]])) {
    sub <- des[doms[[by]][[lev]], ]
    stats <- list(age = svymean(~age, sub, deff = "replace"),
                  "total:age" = svytotal(~age, sub, deff = "replace"))
    for (name in names(stats)) {
      s <- stats[[name]]
      put(design = dname, name = name, domain = by, level = lev, estimate = num(coef(s)),
          se = num(SE(s)), df = degf(sub), deff = num(deff(s)))
    }
  }
  tree[[dname]] <- tree_rows(dname, des, dat, setup, c("province", "sex"))
}
write.csv(do.call(rbind, est), file.path(out_dir, "multistage_estimates_expected.csv"),
          row.names = FALSE)
expected <- do.call(rbind, tree)
write.csv(expected, file.path(out_dir, "multistage_expected.csv"), row.names = FALSE, na = "")
cat("wrote", n, "households,", nrow(expected), "tree rows for", length(policies), "designs\n")
