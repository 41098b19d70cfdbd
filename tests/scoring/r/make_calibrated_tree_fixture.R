# Reference values for the whole SIPAS 2023 index tree on calibrated designs, from R's survey.
#
#   Rscript tests/scoring/r/make_calibrated_tree_fixture.R   (from the repository root)
#
# Reads the tree from questionnaires/sipas-2023.yaml (R's yaml package, as
# make_tree_fixture.R) and the sample tests/scoring/fixtures/sipas_tree_data.csv,
# adds gender and age group (related to the answers, so calibration moves the
# estimates and their SEs) and writes
#   tests/scoring/fixtures/calibrated_tree_data.csv      the sample
#   tests/scoring/fixtures/calibrated_tree_margins.csv   population counts
#   tests/scoring/fixtures/calibrated_tree_expected.csv  design, node, domain, level,
#                                                        estimate, se, df, ci_low, ci_high, deff, n
# for every node, overall, by agency and by gender (a calibration margin), on
#   post_clustered  strata, clusters, postStratify(~gender + agegrp) (10 cells)
#   rake_clustered  strata, clusters, rake(~gender, ~agegrp)
#   post_psu        clusters without strata, postStratify(~gender)
#   post_rows       one respondent per PSU, no strata, postStratify(~gender + agegrp)
#   rake_rows       one respondent per PSU, strata, rake(~gender, ~agegrp)
# Items: svyciprop (logit) and svymean(deff = "replace") on subset(design, domain & valid);
# other nodes: svycontrast on one joint svyratio over subset(design, domain), Wald
# interval on degf, design effect of the linearisation variable as a total.
# n of an item is its valid answers in the domain; n of any other node the respondents of
# the domain with a valid answer to at least one item beneath it (not an R output: a count).
suppressMessages(library(survey))
suppressMessages(library(yaml))
stopifnot(packageVersion("survey") >= "4.1")
out_dir <- "tests/scoring/fixtures"
num <- function(x) sprintf("%.17g", as.numeric(x))

q <- read_yaml("questionnaires/sipas-2023.yaml")
satisfied <- unlist(q$index$satisfied)
opts <- q$scales$satisfaction5$options
valid_codes <- unlist(lapply(opts, function(o) if (isFALSE(o$valid)) NULL else o$code))
leaves_of <- function(node) {
  if (!is.null(node$items)) return(unlist(lapply(node$items, function(i) if (is.list(i)) i$item else i)))
  unlist(lapply(node$children, leaves_of))
}
items <- leaves_of(q$index)
K <- length(items)

# ----------------------------------------------------------------- sample
dat <- read.csv(file.path(out_dir, "sipas_tree_data.csv"), check.names = FALSE,
                stringsAsFactors = FALSE)
n <- nrow(dat)
set.seed(20261130)
happy <- rowMeans(sapply(items, function(i) dat[[i]] %in% satisfied))
dat$gender <- ifelse(runif(n) < 0.3 + 0.4 * happy, 2L, 1L)
dat$agegrp <- pmin(5L, pmax(1L, as.integer(round(1 + 4 * happy + rnorm(n, 0, 1.2)))))
stopifnot(all(table(dat$gender, dat$agegrp) > 0))
write.csv(dat, file.path(out_dir, "calibrated_tree_data.csv"), row.names = FALSE, na = "")

# Population counts: the sample's weighted shares, tilted towards men and the young.
total <- round(sum(dat$w))
cross <- as.data.frame(xtabs(w ~ gender + agegrp, dat))
tilt <- ifelse(cross$gender == 1, 1.25, 0.8) * (1.3 - 0.1 * as.integer(cross$agegrp))
cross$Freq <- round(total * cross$Freq * tilt / sum(cross$Freq * tilt))
cross$gender <- as.integer(as.character(cross$gender))
cross$agegrp <- as.integer(as.character(cross$agegrp))
pop_cross <- cross[, c("gender", "agegrp", "Freq")]
pop_gender <- aggregate(Freq ~ gender, pop_cross, sum)
pop_age <- aggregate(Freq ~ agegrp, pop_cross, sum)
margins <- rbind(
  data.frame(margin = "gender x agegrp", pop_cross),
  data.frame(margin = "gender", gender = pop_gender$gender, agegrp = NA, Freq = pop_gender$Freq),
  data.frame(margin = "agegrp", gender = NA, agegrp = pop_age$agegrp, Freq = pop_age$Freq)
)
write.csv(margins, file.path(out_dir, "calibrated_tree_margins.csv"), row.names = FALSE, na = "")

for (k in seq_len(K)) {
  y <- dat[[items[k]]]
  dat[[sprintf("s%02d", k)]] <- as.numeric(!is.na(y) & y %in% satisfied)
  dat[[sprintf("v%02d", k)]] <- as.numeric(!is.na(y) & y %in% valid_codes)
}
base_num <- sprintf("s%02d", seq_len(K))
base_den <- sprintf("v%02d", seq_len(K))

# coefficient vector (over the K item ratios) of every node: means of children
node_coefs <- list()
node_leaves <- list()
visit <- function(node) {
  node_leaves[[node$code]] <<- match(leaves_of(node), items)
  if (!is.null(node$items)) {
    kids <- lapply(node$items, function(i) {
      v <- numeric(K); v[match(i, items)] <- 1; node_coefs[[i]] <<- v; v
    })
  } else {
    kids <- lapply(node$children, visit)
  }
  v <- Reduce(`+`, kids) / length(kids)
  node_coefs[[node$code]] <<- v
  v
}
invisible(visit(q$index))

# ---------------------------------------------------------------- designs
clustered <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = dat)
designs <- list(
  post_clustered = postStratify(clustered, ~gender + agegrp, pop_cross),
  rake_clustered = rake(clustered, list(~gender, ~agegrp), list(pop_gender, pop_age)),
  post_psu = postStratify(svydesign(id = ~psu, weights = ~w, data = dat), ~gender, pop_gender),
  post_rows = postStratify(svydesign(id = ~1, weights = ~w, data = dat), ~gender + agegrp,
                           pop_cross),
  rake_rows = rake(svydesign(id = ~1, strata = ~stratum, weights = ~w, data = dat),
                   list(~gender, ~agegrp), list(pop_gender, pop_age))
)

res <- list()
put <- function(...) res[[length(res) + 1]] <<- data.frame(..., stringsAsFactors = FALSE)
diag_index <- (seq_len(K) - 1) * K + seq_len(K)
for (dname in names(designs)) {
  des <- designs[[dname]]
  doms <- list(overall = list(all = rep(TRUE, n)))
  for (by in c("agency", "gender")) {
    levs <- sort(unique(dat[[by]]))
    doms[[by]] <- setNames(lapply(levs, function(l) dat[[by]] == l), levs)
  }
  for (by in names(doms)) for (lev in names(doms[[by]])) {
    keep <- doms[[by]][[lev]]
    sub <- des[keep, ]
    df <- degf(sub)
    r <- svyratio(as.formula(paste("~", paste(base_num, collapse = "+"))),
                  as.formula(paste("~", paste(base_den, collapse = "+"))), sub, covmat = TRUE)
    for (node in names(node_coefs)) {
      cc <- node_coefs[[node]]
      if (node %in% items) {
        k <- match(node, items)
        s <- as.formula(paste0("~", base_num[k]))
        ok <- keep & dat[[base_den[k]]] == 1
        ssub <- des[ok, ]
        m <- svymean(s, ssub, deff = "replace")
        cp <- svyciprop(s, ssub, method = "logit")
        ci <- attr(cp, "ci")
        # svyciprop's glm may fail to fit a calibrated subset: no reference interval then.
        if (!isTRUE(all.equal(as.numeric(cp), as.numeric(coef(m)), tolerance = 1e-6))) ci <- c(NA, NA)
        put(design = dname, node = node, domain = by, level = lev, estimate = num(coef(m)),
            se = num(SE(m)), df = degf(ssub), ci_low = num(ci[1]), ci_high = num(ci[2]),
            deff = num(deff(m)), n = sum(ok))
      } else {
        full <- numeric(K * K); full[diag_index] <- cc
        con <- svycontrast(r, full)
        ci <- confint(con, level = 0.95, df = df)
        vv <- sub$variables
        w_sub <- weights(sub)
        u <- rep(0, nrow(vv))
        for (b in which(cc != 0)) {
          den <- sum(vv[[base_den[b]]] * w_sub)
          u <- u + cc[b] * (vv[[base_num[b]]] - coef(r)[diag_index[b]] * vv[[base_den[b]]]) / den
        }
        sub$variables$u_lin <- u
        tu <- svytotal(~u_lin, sub, deff = "replace")
        stopifnot(isTRUE(all.equal(as.numeric(SE(tu)), as.numeric(SE(con)), tolerance = 1e-10)))
        put(design = dname, node = node, domain = by, level = lev, estimate = num(coef(con)),
            se = num(SE(con)), df = df, ci_low = num(ci[1]), ci_high = num(ci[2]),
            deff = num(deff(tu)),
            n = sum(keep & rowSums(as.matrix(dat[, base_den[node_leaves[[node]]]])) > 0))
      }
    }
  }
}
expected <- do.call(rbind, res)
write.csv(expected, file.path(out_dir, "calibrated_tree_expected.csv"), row.names = FALSE, na = "")
cat("wrote", nrow(expected), "rows for", length(designs), "designs and", length(node_coefs), "nodes\n")
