# Reference values of every node of the SIPAS 2023 index tree on a survey design, per domain.
#
# Sourced by make_sampling_fixture.R and make_multistage_fixture.R (from the repository root).
# The tree is read from questionnaires/sipas-2023.yaml with R's yaml package (as
# make_tree_fixture.R does), independently of scoring/index_tree.py.
#   Items:       svyby(~s, ~domain, subset(design, valid), svyciprop, method = "logit") for the
#                interval (and the SE, asserted equal to svymean's); svymean(deff = "replace")
#                and degf of the domain's valid answers for the estimate, design effect and df.
#                Where svyciprop's glm stops short of svymean's estimate (beyond 1e-10), the
#                interval is left out.
#   Other nodes: the linearisation variable u = sum_k c_k (s_k - R_k v_k) / sum(w v_k) of the
#                node's item ratios R_k as a svytotal over subset(design, domain): its SE and
#                design effect; Wald interval on degf. This is svycontrast on one joint svyratio
#                of all items (make_tree_fixture.R and make_calibrated_tree_fixture.R assert the
#                equality in R), without the joint svyratio's K^2 ratio pairs.
# n of an item is its valid answers in the domain; n of any other node the respondents of the
# domain with a valid answer to at least one item beneath it (a count, not an R output).
suppressMessages(library(survey))
suppressMessages(library(yaml))
stopifnot(packageVersion("survey") >= "4.1")
num <- function(x) sprintf("%.17g", as.numeric(x))

tree_setup <- function(path = "questionnaires/sipas-2023.yaml") {
  q <- read_yaml(path)
  opts <- q$scales$satisfaction5$options
  leaves_of <- function(node) {
    if (!is.null(node$items)) {
      return(unlist(lapply(node$items, function(i) if (is.list(i)) i$item else i)))
    }
    unlist(lapply(node$children, leaves_of))
  }
  items <- leaves_of(q$index)
  K <- length(items)
  coefs <- list()
  leaves <- list()
  visit <- function(node) {
    leaves[[node$code]] <<- match(leaves_of(node), items)
    if (!is.null(node$items)) {
      kids <- lapply(node$items, function(i) {
        v <- numeric(K); v[match(i, items)] <- 1; coefs[[i]] <<- v; v
      })
    } else {
      kids <- lapply(node$children, visit)
    }
    v <- Reduce(`+`, kids) / length(kids)
    coefs[[node$code]] <<- v
    v
  }
  invisible(visit(q$index))
  list(items = items, K = K, satisfied = unlist(q$index$satisfied),
       valid = unlist(lapply(opts, function(o) if (isFALSE(o$valid)) NULL else o$code)),
       coefs = coefs, leaves = leaves,
       num = sprintf("s%02d", seq_len(K)), den = sprintf("v%02d", seq_len(K)))
}

# Simulated answers to every item: a latent satisfaction plus noise cut into the five codes,
# 4% "9" (no opinion), 3% blank, items II.4.* (feedback) blank for a share `feedback_blank`,
# and blank wherever `answered` is FALSE.
simulate_answers <- function(dat, latent, setup, feedback_blank, answered = TRUE) {
  n <- nrow(dat)
  for (k in seq_len(setup$K)) {
    z <- latent + rnorm(n, 0, 0.9) + 0.3 * sin(k)
    code <- as.integer(cut(z, c(-Inf, -1.6, -0.9, -0.2, 0.9, Inf)))
    code[runif(n) < 0.04] <- 9L
    code[runif(n) < 0.03] <- NA
    if (startsWith(setup$items[k], "II.4.")) code[runif(n) < feedback_blank] <- NA
    code[!answered] <- NA
    dat[[setup$items[k]]] <- code
  }
  dat
}

# Satisfied (sNN) and valid (vNN) indicators of every item, added to the data.
add_indicators <- function(dat, setup) {
  for (k in seq_len(setup$K)) {
    y <- dat[[setup$items[k]]]
    dat[[setup$num[k]]] <- as.numeric(!is.na(y) & y %in% setup$satisfied)
    dat[[setup$den[k]]] <- as.numeric(!is.na(y) & y %in% setup$valid)
  }
  dat
}

# One row per node and domain level: design, node, domain, level, estimate, se, df, ci_low,
# ci_high, deff, n. `des` must hold the indicator columns; `dat` is its data (same rows).
tree_rows <- function(dname, des, dat, setup, by_vars) {
  K <- setup$K
  n <- nrow(dat)
  doms <- list(overall = list(all = rep(TRUE, n)))
  for (by in by_vars) {
    levs <- sort(unique(dat[[by]]))
    doms[[by]] <- setNames(lapply(levs, function(l) dat[[by]] == l), levs)
  }
  rows <- list()
  put <- function(...) rows[[length(rows) + 1]] <<- data.frame(..., stringsAsFactors = FALSE)
  # items: svyby(svyciprop) over every domain variable at once
  item_ci <- list()
  for (k in seq_len(K)) {
    s <- as.formula(paste0("~", setup$num[k]))
    valid_des <- des[dat[[setup$den[k]]] == 1, ]
    for (by in names(doms)) {
      if (by == "overall") {
        cp <- svyciprop(s, valid_des, method = "logit")
        item_ci[[paste(k, by, "all")]] <- c(coef(cp), SE(cp), attr(cp, "ci"))
      } else {
        res <- svyby(s, as.formula(paste0("~", by)), valid_des, svyciprop, method = "logit",
                     vartype = c("se", "ci"))
        for (i in seq_len(nrow(res))) {
          item_ci[[paste(k, by, res[i, 1])]] <- c(res[i, 2], res[i, 3], res$ci_l[i], res$ci_u[i])
        }
      }
    }
  }
  for (by in names(doms)) for (lev in names(doms[[by]])) {
    keep <- doms[[by]][[lev]]
    sub <- des[keep, ]
    df <- degf(sub)
    w_sub <- weights(sub)
    vv <- sub$variables
    num_tot <- colSums(as.matrix(vv[, setup$num]) * w_sub)
    den_tot <- colSums(as.matrix(vv[, setup$den]) * w_sub)
    ratio <- ifelse(den_tot > 0, num_tot / den_tot, NA)
    for (node in names(setup$coefs)) {
      cc <- setup$coefs[[node]]
      if (node %in% setup$items) {
        k <- match(node, setup$items)
        ok <- keep & dat[[setup$den[k]]] == 1
        if (!any(ok)) next
        ssub <- des[ok, ]
        m <- svymean(as.formula(paste0("~", setup$num[k])), ssub, deff = "replace")
        ci <- item_ci[[paste(k, by, lev)]]
        stopifnot(isTRUE(all.equal(as.numeric(ci[2]), as.numeric(SE(m)), tolerance = 1e-10)))
        # svyciprop's glm may stop short of the estimate on a calibrated subset (its interval
        # is then off by up to 1e-8): no reference interval then.
        if (abs(ci[1] - coef(m)) > 1e-10 * abs(coef(m))) {
          ci[3:4] <- NA
        }
        put(design = dname, node = node, domain = by, level = lev, estimate = num(coef(m)),
            se = num(ci[2]), df = degf(ssub), ci_low = num(ci[3]), ci_high = num(ci[4]),
            deff = num(deff(m)), n = sum(ok))
      } else {
        used <- which(cc != 0)
        u <- rep(0, nrow(vv))
        for (b in used) {
          u <- u + cc[b] * (vv[[setup$num[b]]] - ratio[b] * vv[[setup$den[b]]]) / den_tot[b]
        }
        sub$variables$u_lin <- u
        tu <- svytotal(~u_lin, sub, deff = "replace")
        estimate <- sum(cc[used] * ratio[used])
        half <- qt(0.975, df) * SE(tu)
        reach <- rowSums(as.matrix(dat[, setup$den[setup$leaves[[node]]], drop = FALSE])) > 0
        put(design = dname, node = node, domain = by, level = lev, estimate = num(estimate),
            se = num(SE(tu)), df = df, ci_low = num(estimate - half),
            ci_high = num(estimate + half), deff = num(deff(tu)), n = sum(keep & reach))
      }
    }
  }
  do.call(rbind, rows)
}
