# Reference values for the whole SIPAS 2023 index tree, from R's survey package.
#
#   Rscript tests/scoring/r/make_tree_fixture.R   (from the repository root)
#
# Reads the index tree from questionnaires/sipas-2023.yaml with R's yaml package
# (an implementation of the tree rules independent of scoring/index_tree.py),
# simulates a stratified cluster sample and writes
#   tests/scoring/fixtures/sipas_tree_data.csv   the sample
#   tests/scoring/fixtures/sipas_tree_expected.csv  variant, node, domain, level, field, value
# Variant "yaml" is the tree as published (means of means); variant "pooled"
# pools every criterion (depth 2) and weights the two groups 0.4 / 0.6.
suppressMessages(library(survey))
suppressMessages(library(yaml))
out_dir <- "tests/scoring/fixtures"
num <- function(x) sprintf("%.17g", as.numeric(x))

q <- read_yaml("questionnaires/sipas-2023.yaml")
satisfied <- unlist(q$index$satisfied)
opts <- q$scales$satisfaction5$options
valid_codes <- unlist(lapply(opts, function(o) if (isFALSE(o$valid)) NULL else o$code))
codes <- unlist(lapply(opts, function(o) o$code))

leaves_of <- function(node) {
  if (!is.null(node$items)) return(unlist(lapply(node$items, function(i) if (is.list(i)) i$item else i)))
  unlist(lapply(node$children, leaves_of))
}
items <- leaves_of(q$index)
stopifnot(length(items) == length(unique(items)))
K <- length(items)

# ----------------------------------------------------------------- sample
set.seed(7)
n_strata <- 8
psu_per <- c(5, 4, 6, 5, 3, 5, 4, 6)
rows <- list()
for (h in seq_len(n_strata)) for (j in seq_len(psu_per[h])) {
  m <- sample(12:30, 1)
  rows[[length(rows) + 1]] <- data.frame(stratum = h, psu = sprintf("%d-%d", h, j),
                                         w = runif(m, 30, 90), effect = rnorm(1, 0, 0.5))
}
dat <- do.call(rbind, rows)
n <- nrow(dat)
dat$agency <- sample(c("X", "Y", "Z"), n, replace = TRUE)
latent <- dat$effect + rnorm(n, 0, 0.7)
for (k in seq_len(K)) {
  z <- latent + rnorm(n, 0, 0.9) + 0.3 * sin(k)
  code <- as.integer(cut(z, c(-Inf, -1.6, -0.9, -0.2, 0.9, Inf)))
  code[runif(n) < 0.04] <- 9L
  code[runif(n) < 0.03] <- NA
  if (startsWith(items[k], "II.4.")) code[runif(n) < 0.6] <- NA
  dat[[items[k]]] <- code
}
dat$effect <- NULL
write.csv(dat, file.path(out_dir, "sipas_tree_data.csv"), row.names = FALSE, na = "")

for (k in seq_len(K)) {
  y <- dat[[items[k]]]
  dat[[sprintf("s%02d", k)]] <- as.numeric(!is.na(y) & y %in% satisfied)
  dat[[sprintf("v%02d", k)]] <- as.numeric(!is.na(y) & y %in% valid_codes)
}

# ------------------------------------------------------------ tree algebra
# Base ratios: the K items, then one pooled ratio per depth-2 node (variant "pooled").
criteria <- list()
walk <- function(node, depth) {
  if (depth == 2) criteria[[node$code]] <<- leaves_of(node)
  for (ch in node$children) walk(ch, depth + 1)
}
walk(q$index, 0)
C <- length(criteria)
for (c in seq_len(C)) {
  idx <- match(criteria[[c]], items)
  dat[[sprintf("ps%02d", c)]] <- rowSums(as.matrix(dat[, sprintf("s%02d", idx), drop = FALSE]))
  dat[[sprintf("pv%02d", c)]] <- rowSums(as.matrix(dat[, sprintf("v%02d", idx), drop = FALSE]))
}
nb <- K + C
base_num <- c(sprintf("s%02d", seq_len(K)), sprintf("ps%02d", seq_len(C)))
base_den <- c(sprintf("v%02d", seq_len(K)), sprintf("pv%02d", seq_len(C)))

# coefficient vector (over the nb base ratios) of every node
node_coefs <- function(variant) {
  out <- list()
  visit <- function(node, depth) {
    if (!is.null(node$items)) {
      kids <- lapply(node$items, function(i) { v <- numeric(nb); v[match(i, items)] <- 1; out[[i]] <<- v; v })
    } else {
      kids <- lapply(node$children, function(ch) visit(ch, depth + 1))
    }
    if (variant == "pooled" && depth == 2) {
      v <- numeric(nb); v[K + match(node$code, names(criteria))] <- 1
    } else if (variant == "pooled" && depth == 0) {
      v <- 0.4 * kids[[1]] + 0.6 * kids[[2]]
    } else {
      v <- Reduce(`+`, kids) / length(kids)
    }
    out[[node$code]] <<- v
    v
  }
  visit(q$index, 0)
  out
}

res <- list()
put <- function(variant, node, domain, level, field, value) {
  res[[length(res) + 1]] <<- data.frame(variant = variant, node = node, domain = domain,
                                        level = level, field = field, value = num(value))
}
des <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = dat)
doms <- c(list(overall = list(all = rep(TRUE, n))),
          list(agency = setNames(lapply(c("X", "Y", "Z"), function(a) dat$agency == a), c("X", "Y", "Z"))))
for (dname in names(doms)) for (lev in names(doms[[dname]])) {
  keep <- doms[[dname]][[lev]]
  sub <- des[keep, ]
  df <- degf(sub)
  r <- svyratio(as.formula(paste("~", paste(base_num, collapse = "+"))),
                as.formula(paste("~", paste(base_den, collapse = "+"))), sub, covmat = TRUE)
  diag_index <- (seq_len(nb) - 1) * nb + seq_len(nb)
  for (variant in c("yaml", "pooled")) {
    coefs <- node_coefs(variant)
    for (node in names(coefs)) {
      full <- numeric(nb * nb); full[diag_index] <- coefs[[node]]
      con <- svycontrast(r, full)
      put(variant, node, dname, lev, "estimate", coef(con))
      put(variant, node, dname, lev, "se", SE(con))
      if (node %in% items) {
        k <- match(node, items)
        ssub <- des[keep & dat[[sprintf("v%02d", k)]] == 1, ]
        put(variant, node, dname, lev, "df", degf(ssub))
        ci <- attr(svyciprop(as.formula(paste0("~s", sprintf("%02d", k))), ssub, method = "logit"), "ci")
        put(variant, node, dname, lev, "ci_low", ci[1])
        put(variant, node, dname, lev, "ci_high", ci[2])
        put(variant, node, dname, lev, "deff", deff(svymean(as.formula(paste0("~s", sprintf("%02d", k))),
                                                            ssub, deff = "replace")))
      } else {
        put(variant, node, dname, lev, "df", df)
        if (variant == "pooled" && node %in% names(criteria)) {
          # a pooled criterion is a share: svyciprop's logit interval on the ratio
          p <- coef(con); se <- SE(con)
          hw <- qt(0.975, df) * se / (p * (1 - p))
          ci <- plogis(qlogis(p) + c(-1, 1) * hw)
        } else {
          ci <- confint(con, level = 0.95, df = df)
        }
        put(variant, node, dname, lev, "ci_low", ci[1])
        put(variant, node, dname, lev, "ci_high", ci[2])
        vv <- sub$variables
        u <- rep(0, nrow(vv))
        w_sub <- weights(sub)
        for (b in which(coefs[[node]] != 0)) {
          den <- sum(vv[[base_den[b]]] * w_sub)
          u <- u + coefs[[node]][b] * (vv[[base_num[b]]] - coef(r)[diag_index[b]] * vv[[base_den[b]]]) / den
        }
        sub$variables$u_lin <- u
        put(variant, node, dname, lev, "deff", deff(svytotal(~u_lin, sub, deff = "replace")))
      }
    }
  }
}
expected <- do.call(rbind, res)
write.csv(expected, file.path(out_dir, "sipas_tree_expected.csv"), row.names = FALSE)
cat("wrote", nrow(expected), "reference values for", K, "items\n")
