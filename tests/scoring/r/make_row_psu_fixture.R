# Reference values for index trees on designs with one respondent per PSU (id = ~1).
#
#   Rscript tests/scoring/r/make_row_psu_fixture.R   (from the repository root)
#
# Reads tests/scoring/fixtures/synth.csv (written by make_fixtures.R), adds the design
# columns of a sample without clusters and writes
#   tests/scoring/fixtures/row_psu_data.csv      the sample
#   tests/scoring/fixtures/row_psu_expected.csv  design, name, domain, level, field, value
# for the items q1..q3, their mean (svycontrast on a joint svyratio), their pooled
# share (svyratio) and the nested composite of make_fixtures.R, overall, by agency
# (agency C has no respondent in stratum S6) and by desk (a domain column with
# missing values: those respondents are in no desk).
suppressMessages(library(survey))
stopifnot(packageVersion("survey") >= "4.1")
out_dir <- "tests/scoring/fixtures"
num <- function(x) sprintf("%.17g", as.numeric(x))

dat <- read.csv(file.path(out_dir, "synth.csv"), stringsAsFactors = FALSE)
n <- nrow(dat)
size <- ave(dat$w, dat$stratum, FUN = length)
dat$fpc_rows <- ifelse(dat$stratum == "S2", size, 3 * size)  # S2 is a census
dat$stratum_lonely <- dat$stratum
dat$stratum_lonely[c(1, 6, 18)] <- c("X", "Y", "Z")  # three strata of one respondent
dat$fpc_lonely <- ifelse(dat$stratum_lonely == "Y", 1, 500)  # Y is a census
dat$desk <- ifelse(dat$gender == 2, NA, substr(dat$psu, 4, 5))
write.csv(dat, file.path(out_dir, "row_psu_data.csv"), row.names = FALSE, na = "")

for (k in 1:5) {
  q <- dat[[paste0("q", k)]]
  dat[[paste0("s", k)]] <- as.numeric(!is.na(q) & q %in% c(4, 5))
  dat[[paste0("v", k)]] <- as.numeric(!is.na(q) & q %in% 1:5)
}
dat$nsat <- dat$s1 + dat$s2 + dat$s3
dat$nval <- dat$v1 + dat$v2 + dat$v3
dat$nsat45 <- dat$s4 + dat$s5
dat$nval45 <- dat$v4 + dat$v5

rows <- list()
put <- function(design, name, domain, level, field, value) {
  rows[[length(rows) + 1]] <<- data.frame(design = design, name = name, domain = domain,
                                          level = as.character(level), field = field,
                                          value = num(value), stringsAsFactors = FALSE)
}
domain_rows <- function(vars, by) {
  if (by == "overall") return(list(all = rep(TRUE, nrow(vars))))
  levs <- sort(unique(vars[[by]][!is.na(vars[[by]])]))
  setNames(lapply(levs, function(l) !is.na(vars[[by]]) & vars[[by]] == l), levs)
}

tree_cases <- function(des, dname) {
  vars <- des$variables
  for (by in c("overall", "agency", "desk")) {
    doms <- domain_rows(vars, by)
    for (lev in names(doms)) {
      keep <- doms[[lev]]
      sub <- des[keep, ]
      df <- degf(sub)
      for (k in 1:3) {
        s <- paste0("s", k)
        valid <- des[keep & vars[[paste0("v", k)]] == 1, ]
        name <- paste0("q", k)
        m <- svymean(as.formula(paste0("~", s)), valid, deff = "replace")
        put(dname, name, by, lev, "estimate", coef(m))
        put(dname, name, by, lev, "se", SE(m))
        put(dname, name, by, lev, "df", degf(valid))
        put(dname, name, by, lev, "n", sum(keep & vars[[paste0("v", k)]] == 1))
        put(dname, name, by, lev, "deff", deff(m))
        cp <- svyciprop(as.formula(paste0("~", s)), valid, method = "logit")
        # On one post-stratified subset svyciprop's glm does not fit (it returns 0 and
        # [0, 0] for a share of 0.12): no reference interval there.
        if (isTRUE(all.equal(as.numeric(cp), as.numeric(coef(m)), tolerance = 1e-6))) {
          put(dname, name, by, lev, "ci_low", attr(cp, "ci")[1])
          put(dname, name, by, lev, "ci_high", attr(cp, "ci")[2])
        }
      }
      r <- svyratio(~s1 + s2 + s3, ~v1 + v2 + v3, sub, covmat = TRUE)
      full <- numeric(9); full[c(1, 5, 9)] <- 1 / 3
      con <- svycontrast(r, full)
      put(dname, "mean", by, lev, "estimate", coef(con))
      put(dname, "mean", by, lev, "se", SE(con))
      put(dname, "mean", by, lev, "df", df)
      # n of a composite: respondents of the domain with a valid answer to one of its items
      put(dname, "mean", by, lev, "n", sum(keep & vars$nval > 0))
      ci <- confint(con, level = 0.95, df = df)
      put(dname, "mean", by, lev, "ci_low", ci[1])
      put(dname, "mean", by, lev, "ci_high", ci[2])
      # design effect of the mean: its linearisation variable as a total
      sv <- sub$variables
      ratios <- diag(r$ratio)
      u <- rep(0, nrow(sv))
      for (k in 1:3) {
        den <- sum(sv[[paste0("v", k)]] * weights(sub))
        u <- u + (sv[[paste0("s", k)]] - ratios[k] * sv[[paste0("v", k)]]) / (3 * den)
      }
      sub$variables$u_lin <- u
      put(dname, "mean", by, lev, "deff", deff(svytotal(~u_lin, sub, deff = "replace")))
      pr <- svyratio(~nsat, ~nval, sub, deff = "replace")
      put(dname, "pooled", by, lev, "estimate", coef(pr))
      put(dname, "pooled", by, lev, "se", SE(pr))
      put(dname, "pooled", by, lev, "df", df)
      put(dname, "pooled", by, lev, "n", sum(keep & vars$nval > 0))
      put(dname, "pooled", by, lev, "deff", deff(pr))
      # nested: mean(mean(q1, q2), q3, pooled(q4, q5)) on the 0-100 range
      rn <- svyratio(~s1 + s2 + s3 + nsat45, ~v1 + v2 + v3 + nval45, sub, covmat = TRUE)
      cn <- numeric(16); cn[c(1, 6)] <- 1 / 6; cn[11] <- 1 / 3; cn[16] <- 1 / 3
      nested <- svycontrast(rn, cn * 100)
      put(dname, "nested", by, lev, "estimate", coef(nested))
      put(dname, "nested", by, lev, "se", SE(nested))
    }
  }
}

options(survey.lonely.psu = "fail")
tree_cases(svydesign(id = ~1, weights = ~w, data = dat), "R_weights")
tree_cases(svydesign(id = ~1, strata = ~stratum, weights = ~w, fpc = ~fpc_rows, data = dat),
           "R_fpc")
base <- svydesign(id = ~1, strata = ~stratum, weights = ~w, data = dat)
total_w <- sum(dat$w)
pop_gender <- data.frame(gender = 1:2, Freq = round(total_w * c(0.48, 0.52), 1))
tree_cases(postStratify(base, ~gender, pop_gender), "R_post")
for (pol in c("adjust", "certainty", "remove", "average")) {
  options(survey.lonely.psu = pol)
  tree_cases(svydesign(id = ~1, strata = ~stratum_lonely, weights = ~w, data = dat),
             paste0("R_lonely_", pol))
  tree_cases(svydesign(id = ~1, strata = ~stratum_lonely, weights = ~w, fpc = ~fpc_lonely,
                       data = dat), paste0("R_lonely_fpc_", pol))
}
options(survey.lonely.psu = "fail")

expected <- do.call(rbind, rows)
write.csv(expected, file.path(out_dir, "row_psu_expected.csv"), row.names = FALSE)
cat("wrote", nrow(expected), "reference values\n")
