# Reference values for tests/scoring from R's survey package (Lumley).
#
#   Rscript tests/scoring/r/make_fixtures.R   (from the repository root)
#
# Writes tests/scoring/fixtures/:
#   apistrat.csv, apiclus1.csv, synth.csv   inputs
#   margins.csv                             population counts for calibration
#   weights.csv                             R's calibrated and trimmed weights (synth rows)
#   expected.csv                            case, design, name, domain, level, field, value
# Every number is printed with 17 significant digits.
suppressMessages(library(survey))
stopifnot(packageVersion("survey") >= "4.1")
out_dir <- "tests/scoring/fixtures"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
num <- function(x) sprintf("%.17g", as.numeric(x))

rows <- list()
put <- function(case, design, name, domain, level, field, value) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, design = design, name = name, domain = domain, level = as.character(level),
    field = field, value = num(value), stringsAsFactors = FALSE)
}
LEVELS <- c(0.95, 0.90)
METHODS <- c("logit", "xlogit", "asin", "beta", "mean")

# ---------------------------------------------------------------- data
data(api)
write.csv(apistrat, file.path(out_dir, "apistrat.csv"), row.names = FALSE)
write.csv(apiclus1, file.path(out_dir, "apiclus1.csv"), row.names = FALSE)

set.seed(20261123)
n_psu <- c(4, 5, 3, 6, 4, 5)
pop_psu <- n_psu * c(3, 2, 4, 5, 10, 2)
synth <- do.call(rbind, lapply(seq_along(n_psu), function(h) {
  do.call(rbind, lapply(seq_len(n_psu[h]), function(j) {
    m <- sample(6:20, 1)
    data.frame(stratum = paste0("S", h), psu = sprintf("S%d-P%d", h, j),
               fpc_count = pop_psu[h], fpc_frac = n_psu[h] / pop_psu[h],
               w = round(runif(m, 20, 120), 3), desk_effect = rnorm(1, 0, 0.6))
  }))
}))
n <- nrow(synth)
synth$stratum_l <- ifelse(synth$psu == "S3-P1", "S7", synth$stratum)
synth$agency <- sample(c("A", "B", "C"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
synth$agency[synth$stratum == "S6" & synth$agency == "C"] <- "B"  # agency C has no respondent in S6
synth$gender <- sample(1:2, n, replace = TRUE)
synth$agegrp <- sample(1:3, n, replace = TRUE, prob = c(0.3, 0.45, 0.25))
latent <- rnorm(n) + synth$desk_effect
for (k in 1:6) {
  z <- latent + rnorm(n, 0, 1) + c(1.2, 0.9, 0.6, 1.4, 0.3, 1.0)[k]
  code <- as.integer(cut(z, c(-Inf, -1.2, -0.3, 0.5, 1.6, Inf)))
  code[runif(n) < 0.07] <- 9L
  code[runif(n) < 0.05] <- NA
  synth[[paste0("q", k)]] <- code
}
synth$q6[synth$agency == "C"] <- NA  # no valid answer to q6 in agency C
synth$score <- round(10 * latent + 50 + rnorm(n, 0, 5), 2)
synth$desk_effect <- NULL
write.csv(synth, file.path(out_dir, "synth.csv"), row.names = FALSE, na = "")

for (k in 1:6) {
  q <- synth[[paste0("q", k)]]
  synth[[paste0("s", k)]] <- as.numeric(!is.na(q) & q %in% c(4, 5))
  synth[[paste0("v", k)]] <- as.numeric(!is.na(q) & q %in% 1:5)
}
synth$nsat <- synth$s1 + synth$s2 + synth$s3
synth$nval <- synth$v1 + synth$v2 + synth$v3
synth$nsat45 <- synth$s4 + synth$s5
synth$nval45 <- synth$v4 + synth$v5

total_w <- sum(synth$w)
pop_gender <- data.frame(gender = 1:2, Freq = round(total_w * c(0.48, 0.52), 1))
pop_age <- data.frame(agegrp = 1:3, Freq = round(total_w * c(0.35, 0.40, 0.25), 1))
pop_age$Freq[3] <- sum(pop_gender$Freq) - sum(pop_age$Freq[1:2])
pop_agency <- data.frame(agency = c("A", "B", "C"), Freq = round(total_w * c(0.45, 0.35, 0.20), 1))
pop_agency$Freq[3] <- sum(pop_gender$Freq) - sum(pop_agency$Freq[1:2])
pop_cross <- expand.grid(gender = 1:2, agegrp = 1:3)
pop_cross$Freq <- round(total_w * c(0.16, 0.17, 0.20, 0.21, 0.12, 0.14), 1)
write.csv(rbind(data.frame(variable = "gender", value = pop_gender$gender, Freq = num(pop_gender$Freq)),
                data.frame(variable = "agegrp", value = pop_age$agegrp, Freq = num(pop_age$Freq)),
                data.frame(variable = "agency", value = pop_agency$agency, Freq = num(pop_agency$Freq))),
          file.path(out_dir, "margins.csv"), row.names = FALSE)
write.csv(data.frame(gender = pop_cross$gender, agegrp = pop_cross$agegrp, Freq = num(pop_cross$Freq)),
          file.path(out_dir, "margins_cross.csv"), row.names = FALSE)

# ------------------------------------------------------------- designs
options(survey.lonely.psu = "fail")
des_A <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = synth)
des_B <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, fpc = ~fpc_count, data = synth)
des_C <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, fpc = ~fpc_frac, data = synth)
des_P <- postStratify(des_A, ~gender, pop_gender)
des_K <- rake(des_A, list(~gender, ~agegrp), list(pop_gender, pop_age))
des_P2 <- postStratify(des_A, ~gender + agegrp, pop_cross)
des_PK <- rake(postStratify(des_A, ~agency, pop_agency), list(~gender, ~agegrp), list(pop_gender, pop_age))
w_A <- weights(des_A)
trim_hi <- unname(quantile(w_A, 0.9))
trim_lo <- unname(quantile(w_A, 0.1))
des_T <- trimWeights(des_A, upper = trim_hi, lower = trim_lo)
des_TS <- trimWeights(des_A, upper = 100, lower = 30, strict = TRUE)
des_PT <- trimWeights(des_P, upper = unname(quantile(weights(des_P), 0.9)))
write.csv(data.frame(P = num(weights(des_P)), K = num(weights(des_K)), T = num(weights(des_T)),
                     TS = num(weights(des_TS)), PT = num(weights(des_PT)), P2 = num(weights(des_P2)),
                     PK = num(weights(des_PK))),
          file.path(out_dir, "weights.csv"), row.names = FALSE)
put("trim", "T", "bounds", "", "", "upper", trim_hi)
put("trim", "T", "bounds", "", "", "lower", trim_lo)
put("trim", "PT", "bounds", "", "", "upper", unname(quantile(weights(des_P), 0.9)))

designs <- list(A = des_A, B = des_B, C = des_C, P = des_P, K = des_K, T = des_T, PT = des_PT,
                P2 = des_P2, PK = des_PK)
for (nm in names(designs)) put("degf", nm, "design", "overall", "all", "df", degf(designs[[nm]]))

domain_rows <- function(des, by) {
  vars <- des$variables
  if (by == "overall") return(list(all = rep(TRUE, nrow(vars))))
  levs <- sort(unique(vars[[by]]))
  setNames(lapply(levs, function(l) vars[[by]] == l), levs)
}

# ------------------------------------------------------------ item shares
item_shares <- function(des, dname, items, bys, methods = METHODS, levels = LEVELS) {
  for (by in bys) {
    doms <- domain_rows(des, by)
    for (lev in names(doms)) {
      for (k in items) {
        s <- paste0("s", k); v <- paste0("v", k)
        keep <- doms[[lev]] & des$variables[[v]] == 1
        if (!any(keep)) next
        sub <- des[keep, ]
        m <- svymean(as.formula(paste0("~", s)), sub, deff = TRUE)
        mr <- svymean(as.formula(paste0("~", s)), sub, deff = "replace")
        case <- "share"; name <- paste0("q", k)
        put(case, dname, name, by, lev, "estimate", coef(m))
        put(case, dname, name, by, lev, "se", SE(m))
        put(case, dname, name, by, lev, "df", degf(sub))
        put(case, dname, name, by, lev, "n", sum(keep))
        put(case, dname, name, by, lev, "deff_srswor", deff(m))
        put(case, dname, name, by, lev, "deff", deff(mr))
        # the ratio estimator on the domain design gives the same estimate and SE
        r <- svyratio(as.formula(paste0("~", s)), as.formula(paste0("~", v)), des[doms[[lev]], ])
        stopifnot(isTRUE(all.equal(as.numeric(coef(r)), as.numeric(coef(m)), tolerance = 1e-12)))
        stopifnot(isTRUE(all.equal(as.numeric(SE(r)), as.numeric(SE(m)), tolerance = 1e-10)))
        for (meth in methods) for (lv in levels) {
          ci <- attr(svyciprop(as.formula(paste0("~", s)), sub, method = meth, level = lv), "ci")
          put(case, dname, name, by, lev, sprintf("ci_low_%s_%s", meth, lv), ci[1])
          put(case, dname, name, by, lev, sprintf("ci_high_%s_%s", meth, lv), ci[2])
        }
      }
    }
  }
}

# svyby() over the agencies gives the same logit intervals as the subsets above.
by_ci <- svyby(~s1, ~agency, des_A[des_A$variables$v1 == 1, ], svyciprop, vartype = "ci")
sub_ci <- attr(svyciprop(~s1, des_A[des_A$variables$v1 == 1 & des_A$variables$agency == "B", ]), "ci")
stopifnot(isTRUE(all.equal(as.numeric(by_ci["B", c("ci_l", "ci_u")]), as.numeric(sub_ci),
                           tolerance = 1e-12)))

for (nm in c("A", "B", "C")) item_shares(designs[[nm]], nm, 1:6, c("overall", "agency"))
for (nm in c("P", "K", "T", "PT", "P2", "PK"))
  item_shares(designs[[nm]], nm, 1:6, c("overall", "agency"), methods = c("logit", "beta", "mean"),
              levels = 0.95)

# ---------------------------------------------------------- lonely PSUs
for (pol in c("adjust", "certainty", "remove", "average")) {
  options(survey.lonely.psu = pol)
  dl <- svydesign(id = ~psu, strata = ~stratum_l, weights = ~w, data = synth)
  dlf <- svydesign(id = ~psu, strata = ~stratum_l, weights = ~w, fpc = ~fpc_count, data = synth)
  item_shares(dl, paste0("L_", pol), 1:6, c("overall", "agency"), methods = "logit", levels = 0.95)
  item_shares(dlf, paste0("LF_", pol), 1:6, c("overall", "agency"), methods = "logit", levels = 0.95)
  put("degf", paste0("L_", pol), "design", "overall", "all", "df", degf(dl))
  # a post-stratified design keeps every row in a subset (R's is.calibrated branch of `[`)
  dlp <- postStratify(dl, ~gender, pop_gender)
  item_shares(dlp, paste0("LP_", pol), 1:6, c("overall", "agency"), methods = c("logit", "beta"),
              levels = 0.95)
}
options(survey.lonely.psu = "fail")

# ---------------------------------------------------- composites, pooled
composites <- list(mean = c(1, 1, 1) / 3, wmean = c(0.5, 0.3, 0.2), sum = c(1, 1, 1))
range_low <- 1 / 3; range_high <- 10 / 3
composite_cases <- function(des, dname, bys) {
  for (by in bys) {
    doms <- domain_rows(des, by)
    for (lev in names(doms)) {
      sub <- des[doms[[lev]], ]
      r <- svyratio(~s1 + s2 + s3, ~v1 + v2 + v3, sub, covmat = TRUE)
      ratios <- diag(r$ratio)
      for (cn in names(composites)) {
        cc <- composites[[cn]]
        full <- numeric(9); full[c(1, 5, 9)] <- cc
        con <- svycontrast(r, full)
        put("composite", dname, cn, by, lev, "estimate", coef(con))
        put("composite", dname, cn, by, lev, "se", SE(con))
        put("composite", dname, cn, by, lev, "df", degf(sub))
        # n of a composite: respondents of the domain with a valid answer to one of its items
        put("composite", dname, cn, by, lev, "n", sum(weights(sub) != 0 & sub$variables$nval > 0))
        for (lv in LEVELS) {
          ci <- confint(con, level = lv, df = degf(sub))
          put("composite", dname, cn, by, lev, sprintf("ci_low_wald_%s", lv), ci[1])
          put("composite", dname, cn, by, lev, sprintf("ci_high_wald_%s", lv), ci[2])
        }
        # design effect of the composite: its linearisation variable as a total
        vv <- sub$variables
        den <- colSums(as.matrix(vv[, c("v1", "v2", "v3")]) * weights(sub))
        u <- rep(0, nrow(vv))
        for (k in 1:3) u <- u + cc[k] * (vv[[paste0("s", k)]] - ratios[k] * vv[[paste0("v", k)]]) / den[k]
        sub$variables$u_lin <- u
        tu <- svytotal(~u_lin, sub, deff = "replace")
        stopifnot(isTRUE(all.equal(as.numeric(SE(tu)), as.numeric(SE(con)), tolerance = 1e-10)))
        put("composite", dname, cn, by, lev, "deff", deff(tu))
        put("composite", dname, cn, by, lev, "deff_srswor", deff(svytotal(~u_lin, sub, deff = TRUE)))
        if (cn == "mean") {
          mapped <- svycontrast(r, full * (range_high - range_low))
          put("composite", dname, "range", by, lev, "estimate", range_low + coef(mapped))
          put("composite", dname, "range", by, lev, "se", SE(mapped))
          ci <- range_low + confint(mapped, level = 0.95, df = degf(sub))
          put("composite", dname, "range", by, lev, "ci_low_wald_0.95", ci[1])
          put("composite", dname, "range", by, lev, "ci_high_wald_0.95", ci[2])
        }
      }
      # nested: mean(mean(q1, q2), q3, pooled(q4, q5)) on the 0-100 range
      rn <- svyratio(~s1 + s2 + s3 + nsat45, ~v1 + v2 + v3 + nval45, sub, covmat = TRUE)
      cn <- numeric(16); cn[c(1, 6)] <- 1 / 6; cn[11] <- 1 / 3; cn[16] <- 1 / 3
      nested <- svycontrast(rn, cn * 100)
      put("composite", dname, "nested", by, lev, "estimate", coef(nested))
      put("composite", dname, "nested", by, lev, "se", SE(nested))
      for (lv in LEVELS) {
        ci <- confint(nested, level = lv, df = degf(sub))
        put("composite", dname, "nested", by, lev, sprintf("ci_low_wald_%s", lv), ci[1])
        put("composite", dname, "nested", by, lev, sprintf("ci_high_wald_%s", lv), ci[2])
      }
      pr <- svyratio(~nsat, ~nval, sub, deff = "replace")
      prw <- svyratio(~nsat, ~nval, sub, deff = TRUE)
      p <- as.numeric(coef(pr)); se <- as.numeric(SE(pr)); df <- degf(sub)
      put("composite", dname, "pooled", by, lev, "estimate", p)
      put("composite", dname, "pooled", by, lev, "se", se)
      put("composite", dname, "pooled", by, lev, "df", df)
      put("composite", dname, "pooled", by, lev, "n", sum(weights(sub) != 0 & sub$variables$nval > 0))
      put("composite", dname, "pooled", by, lev, "deff", deff(pr))
      put("composite", dname, "pooled", by, lev, "deff_srswor", deff(prw))
      for (lv in LEVELS) {
        # svyciprop's logit interval applied to the pooled ratio and its SE
        hw <- qt((1 + lv) / 2, df) * se / (p * (1 - p))
        put("composite", dname, "pooled", by, lev, sprintf("ci_low_logit_%s", lv), plogis(qlogis(p) - hw))
        put("composite", dname, "pooled", by, lev, sprintf("ci_high_logit_%s", lv), plogis(qlogis(p) + hw))
      }
    }
  }
}
for (nm in c("A", "B", "P", "K", "PT", "P2", "PK")) composite_cases(designs[[nm]], nm, c("overall", "agency"))

# ---------------------------------------------------- means, totals, ratios
numeric_cases <- function(des, dname, bys, mean_var, total_var, ratio_num, ratio_den) {
  for (by in bys) {
    doms <- domain_rows(des, by)
    for (lev in names(doms)) {
      sub <- des[doms[[lev]], ]
      df <- degf(sub)
      for (kind in c("mean", "total", "ratio")) {
        if (kind == "mean") {
          e <- svymean(as.formula(paste0("~", mean_var)), sub, deff = "replace")
          e2 <- svymean(as.formula(paste0("~", mean_var)), sub, deff = TRUE); name <- mean_var
        } else if (kind == "total") {
          e <- svytotal(as.formula(paste0("~", total_var)), sub, deff = "replace")
          e2 <- svytotal(as.formula(paste0("~", total_var)), sub, deff = TRUE); name <- total_var
        } else {
          f1 <- as.formula(paste0("~", ratio_num)); f2 <- as.formula(paste0("~", ratio_den))
          e <- svyratio(f1, f2, sub, deff = "replace"); e2 <- svyratio(f1, f2, sub, deff = TRUE)
          name <- paste0(ratio_num, "/", ratio_den)
        }
        put(kind, dname, name, by, lev, "estimate", coef(e))
        put(kind, dname, name, by, lev, "se", SE(e))
        put(kind, dname, name, by, lev, "df", df)
        put(kind, dname, name, by, lev, "n", sum(weights(sub) != 0))
        put(kind, dname, name, by, lev, "deff", deff(e))
        put(kind, dname, name, by, lev, "deff_srswor", deff(e2))
        for (lv in LEVELS) {
          ci <- confint(e, level = lv, df = df)
          put(kind, dname, name, by, lev, sprintf("ci_low_wald_%s", lv), ci[1])
          put(kind, dname, name, by, lev, sprintf("ci_high_wald_%s", lv), ci[2])
        }
      }
    }
  }
}
# mean score of an item over its valid answers (1-5; 9 and blanks left out)
for (nm in c("A", "K")) {
  des <- designs[[nm]]
  for (by in c("overall", "agency")) {
    doms <- domain_rows(des, by)
    for (lev in names(doms)) {
      sub <- des[doms[[lev]] & des$variables$v2 == 1, ]
      e <- svymean(~q2, sub, deff = "replace", na.rm = TRUE); df <- degf(sub)
      put("mean_score", nm, "q2", by, lev, "estimate", coef(e))
      put("mean_score", nm, "q2", by, lev, "se", SE(e))
      put("mean_score", nm, "q2", by, lev, "df", df)
      put("mean_score", nm, "q2", by, lev, "n", nrow(sub$variables[weights(sub) != 0, ]))
      put("mean_score", nm, "q2", by, lev, "deff", deff(e))
      ci <- confint(e, level = 0.95, df = df)
      put("mean_score", nm, "q2", by, lev, "ci_low_wald_0.95", ci[1])
      put("mean_score", nm, "q2", by, lev, "ci_high_wald_0.95", ci[2])
    }
  }
}

api_s <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
api_c <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
api_c0 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)
numeric_cases(api_s, "apistrat", c("overall", "awards"), "api00", "enroll", "api.stu", "enroll")
numeric_cases(api_c, "apiclus1", c("overall", "stype"), "api00", "enroll", "api.stu", "enroll")
numeric_cases(api_c0, "apiclus1_nofpc", c("overall", "stype"), "api00", "enroll", "api.stu", "enroll")
numeric_cases(des_A, "A", c("overall", "agency"), "score", "score", "nsat", "nval")
numeric_cases(des_K, "K", c("overall", "agency"), "score", "score", "nsat", "nval")

# svyciprop on the api designs (share of schools above a threshold)
api_prop <- function(des, dname, bys, threshold) {
  des$variables$hi <- as.numeric(des$variables$api00 > threshold)
  des$variables$ok <- 1
  for (by in bys) {
    doms <- domain_rows(des, by)
    for (lev in names(doms)) {
      sub <- des[doms[[lev]], ]
      m <- svymean(~hi, sub, deff = "replace")
      put("share", dname, "hi", by, lev, "estimate", coef(m))
      put("share", dname, "hi", by, lev, "se", SE(m))
      put("share", dname, "hi", by, lev, "df", degf(sub))
      put("share", dname, "hi", by, lev, "n", nrow(sub))
      put("share", dname, "hi", by, lev, "deff", deff(m))
      put("share", dname, "hi", by, lev, "deff_srswor", deff(svymean(~hi, sub, deff = TRUE)))
      for (meth in METHODS) for (lv in LEVELS) {
        ci <- attr(svyciprop(~hi, sub, method = meth, level = lv), "ci")
        put("share", dname, "hi", by, lev, sprintf("ci_low_%s_%s", meth, lv), ci[1])
        put("share", dname, "hi", by, lev, sprintf("ci_high_%s_%s", meth, lv), ci[2])
      }
    }
  }
}
api_prop(api_s, "apistrat", c("overall", "awards"), 700)
api_prop(api_c, "apiclus1", c("overall", "stype"), 650)

expected <- do.call(rbind, rows)
write.csv(expected, file.path(out_dir, "expected.csv"), row.names = FALSE)
cat("wrote", nrow(expected), "reference values\n")
