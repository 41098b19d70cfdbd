# ---------------------------------------------------------------------------------------------
# Tính lại mọi chỉ số từ dữ liệu thô bằng gói survey của R (Lumley), độc lập với ứng dụng.
# Recomputes every index node and the PAR points from the raw data with R's survey package,
# independently of the app, and compares them with the app's figures.
#
#   Rscript reproduce.R        (inside the unzipped folder; needs R and the survey package)
#
# Reads  du_lieu.csv (answers), cay_chi_so.csv (index tree), anh_xa_cchc.csv (PAR criteria),
#        bien_dan_so_*.csv (population margins), ket_qua_ung_dung.csv (the app's figures)
# Writes ket_qua_R.csv (same layout as ket_qua_ung_dung.csv)
# Exit status 0 when every figure agrees within TOLERANCE, 1 otherwise.
#
# Method (what the app does, written out in R):
#   design   svydesign(id = ~CLUSTER or ~1, strata = ~STRATA, weights = 1, data = all rows of the
#            campaign), options(survey.lonely.psu = "adjust"), then postStratify() or rake()
#            to the margins; the pack's scope is the domain in_domain == 1, estimated as
#            subset(design, in_domain == 1) as survey does for domains (every PSU keeps its
#            place in the variance).
#   items    share satisfied among valid answers: svymean() on subset(design, domain & valid);
#            df = degf() of that subset.
#   others   mean / weighted_mean / sum of children, or pooled ratios (satisfied answers over
#            valid answers beneath the node), optionally mapped onto a range [low, high]:
#            linear in the base ratios, so the SE is that of svytotal() of the linearisation
#            variable u = sum_b c_b (num_b - R_b den_b) / sum(w den_b) over subset(design,
#            domain) (= svycontrast() of a joint svyratio()); df = degf() of the domain.
#   intervals  shares (items, pooled nodes without a range): svyciprop's interval METHOD written
#            in closed form from the estimate and SE (logit: expit(logit(p) -/+ t se/(p(1-p))),
#            which is what svyciprop's quasibinomial glm converges to; its iterations stop about
#            1e-8 short, too coarse to compare at 1e-8); a share of exactly 0 or 1 gets the
#            Clopper-Pearson interval of its n valid answers; other nodes: Wald t on df.
#   PAR      points = round(round(100 * index / index_max, percent_decimals) * max_points / 100,
#            decimals) per agency of the scope, rounding as the PAR mapping says.
# ---------------------------------------------------------------------------------------------
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust", warn = 1)

read_text_csv <- function(path) {
  read.csv(path, check.names = FALSE, stringsAsFactors = FALSE, colClasses = "character",
           fileEncoding = "UTF-8-BOM", na.strings = character(0))
}
as_num <- function(x) suppressWarnings(as.numeric(ifelse(x == "", NA, x)))
codes_of <- function(text) if (is.na(text) || text == "") integer(0) else
  as.integer(strsplit(text, " ", fixed = TRUE)[[1]])

# ------------------------------------------------------------------------------ the data
raw <- read_text_csv("du_lieu.csv")
tree <- read_text_csv("cay_chi_so.csv")
dat <- data.frame(desk = raw$desk, agency = raw$agency, stringsAsFactors = FALSE)
dat$in_domain <- as.integer(raw$in_domain)
for (v in CALIBRATION_VARIABLES) dat[[v]] <- as.integer(raw[[v]])

# The domain flag says what the app says: submitted within the period, by an agency of the scope.
# Rows of agencies outside the scope carry no day (and their desk and agency at most as opaque
# labels khac-quay-NN / khac-co-quan-NN, where the design's strata or cluster): they are
# outside the domain, and must not name an agency of the scope.
dated <- raw$submitted_on != ""
expected_domain <- dated & raw$submitted_on >= PERIOD_START & raw$submitted_on <= PERIOD_END
if (!is.null(SCOPE)) expected_domain <- expected_domain & raw$agency %in% SCOPE
undated_in_scope <- !dated & (is.null(SCOPE) | raw$agency %in% SCOPE)
if (!identical(as.integer(expected_domain), dat$in_domain) || any(undated_in_scope)) {
  stop("du_lieu.csv: cột in_domain không khớp với kỳ và phạm vi cơ quan của bộ tài liệu")
}
keep <- dat$in_domain == 1
n_all <- nrow(dat)

# ------------------------------------------------ the index tree table against the YAML
# cay_chi_so.csv is the questionnaire's index tree as a table; where R's yaml package is
# installed, it is rebuilt here from bo_cau_hoi.yaml (satisfied codes inherited from the
# nearest node that sets them, valid codes from the item's options or scale) and compared.
check_tree <- function() {
  if (!requireNamespace("yaml", quietly = TRUE)) {
    cat("(gói yaml chưa cài: bỏ qua đối chiếu cay_chi_so.csv với bo_cau_hoi.yaml)\n")
    return(invisible(NULL))
  }
  q <- yaml::read_yaml("bo_cau_hoi.yaml")
  items <- list()
  for (section in q$sections) for (it in section$items) items[[it$code]] <- it
  for (it in q$respondent) items[[it$code]] <- it
  valid_of <- function(code) {
    it <- items[[code]]
    options <- if (!is.null(it$options)) it$options else q$scales[[it$scale]]$options
    sort(unlist(lapply(options, function(o) if (isFALSE(o$valid)) NULL else as.integer(o$code))))
  }
  fraction <- function(x) {
    parts <- as.numeric(strsplit(as.character(x), "/", fixed = TRUE)[[1]])
    if (length(parts) == 2) parts[1] / parts[2] else parts[1]
  }
  number <- function(x) if (is.null(x)) NA else fraction(x)
  rows <- list()
  put <- function(node, parent, aggregate, item, weight, range, satisfied, valid) {
    rows[[length(rows) + 1]] <<- list(node = node, parent = parent, aggregate = aggregate,
      item = item, weight = weight, range_low = range[1], range_high = range[2],
      satisfied = paste(sort(satisfied), collapse = " "), valid = paste(valid, collapse = " "))
  }
  walk <- function(node, parent, satisfied) {
    if (!is.null(node$satisfied)) satisfied <- as.integer(unlist(node$satisfied))
    range <- if (is.null(node$range)) c(NA, NA) else sapply(node$range, fraction)
    put(node$code, parent, node$aggregate, "", number(node$weight), range, integer(0),
        integer(0))
    for (child in node$children) walk(child, node$code, satisfied)
    for (leaf in node$items) {
      code <- if (is.list(leaf)) leaf$item else leaf
      weight <- if (is.list(leaf)) number(leaf$weight) else NA
      put(code, node$code, "item", code, weight, c(NA, NA), satisfied, valid_of(code))
    }
  }
  walk(q$index, "", integer(0))
  same_number <- function(a, b) (is.na(a) && is.na(b)) || isTRUE(abs(a - b) <= 1e-12)
  if (length(rows) != nrow(tree)) stop("cay_chi_so.csv: số nút khác bo_cau_hoi.yaml")
  for (i in seq_along(rows)) {
    r <- rows[[i]]
    ok <- r$node == tree$node[i] && r$parent == tree$parent[i] &&
      r$aggregate == tree$aggregate[i] && r$item == tree$item[i] &&
      same_number(r$weight, as_num(tree$weight[i])) &&
      same_number(r$range_low, as_num(tree$range_low[i])) &&
      same_number(r$range_high, as_num(tree$range_high[i])) &&
      (r$aggregate != "item" || (r$satisfied == tree$satisfied[i] && r$valid == tree$valid[i]))
    if (!ok) stop("cay_chi_so.csv dòng ", i + 1, " (nút ", tree$node[i],
                  ") khác cây chỉ số trong bo_cau_hoi.yaml")
  }
  cat("cay_chi_so.csv khớp với cây chỉ số của bo_cau_hoi.yaml\n")
}
check_tree()

# ------------------------------------------------------------------------- the index tree
# Base ratios: one per (item, satisfied codes) leaf, then one per pooled node.
tree$satisfied[tree$aggregate != "item"] <- ""
leaf_key <- ifelse(tree$aggregate == "item", paste(tree$item, tree$satisfied), NA)
leaf_keys <- unique(leaf_key[!is.na(leaf_key)])
K <- length(leaf_keys)
pooled <- tree$node[tree$aggregate == "pooled"]
n_base <- K + length(pooled)
num <- matrix(0, n_all, n_base)
den <- matrix(0, n_all, n_base)
for (k in seq_len(K)) {
  row <- match(leaf_keys[k], leaf_key)
  y <- as.integer(raw[[tree$item[row]]])
  num[, k] <- as.numeric(!is.na(y) & y %in% codes_of(tree$satisfied[row]))
  den[, k] <- as.numeric(!is.na(y) & y %in% codes_of(tree$valid[row]))
}
children <- function(code) which(tree$parent == code)
leaves_under <- function(i) {
  if (tree$aggregate[i] == "item") return(match(leaf_key[i], leaf_keys))
  unlist(lapply(children(tree$node[i]), leaves_under))
}
for (p in seq_along(pooled)) {
  beneath <- leaves_under(match(pooled[p], tree$node))  # with repeats: an item counted twice
  for (b in beneath) {
    num[, K + p] <- num[, K + p] + num[, b]
    den[, K + p] <- den[, K + p] + den[, b]
  }
}
# Every node as c0 + c' theta over the base ratios theta.
linear <- list()
visit <- function(i) {
  code <- tree$node[i]
  c <- numeric(n_base)
  c0 <- 0
  if (tree$aggregate[i] == "item") {
    c[match(leaf_key[i], leaf_keys)] <- 1
  } else if (tree$aggregate[i] == "pooled") {
    c[K + match(code, pooled)] <- 1
    for (j in children(code)) visit(j)
  } else {
    kids <- children(code)
    parts <- lapply(kids, visit)
    w <- switch(tree$aggregate[i],
      mean = rep(1 / length(kids), length(kids)),
      sum = rep(1, length(kids)),
      weighted_mean = as_num(tree$weight[kids]) / sum(as_num(tree$weight[kids])),
      stop("unknown aggregate ", tree$aggregate[i]))
    for (j in seq_along(kids)) {
      c <- c + w[j] * parts[[j]]$c
      c0 <- c0 + w[j] * parts[[j]]$c0
    }
  }
  if (tree$range_low[i] != "") {
    low <- as_num(tree$range_low[i]); high <- as_num(tree$range_high[i])
    c <- c * (high - low)
    c0 <- low + (high - low) * c0
  }
  linear[[code]] <<- list(c = c, c0 = c0)
  linear[[code]]
}
invisible(visit(which(tree$parent == "")))

# ------------------------------------------------------------------------------ the design
base_names <- sprintf("b%03d", seq_len(n_base))
for (b in seq_len(n_base)) {
  dat[[paste0("num_", base_names[b])]] <- num[, b]
  dat[[paste0("den_", base_names[b])]] <- den[, b]
}
dat$one <- 1
design <- svydesign(
  ids = if (is.na(CLUSTER)) ~1 else as.formula(paste0("~", CLUSTER)),
  strata = if (is.na(STRATA)) NULL else as.formula(paste0("~", STRATA)),
  weights = ~one, data = dat)
margins <- lapply(MARGIN_FILES, function(f) {
  m <- read.csv(f, check.names = FALSE, stringsAsFactors = FALSE)
  m$Freq <- as.numeric(m$Freq)
  m
})
formula_of <- function(m) as.formula(paste("~", paste(setdiff(names(m), "Freq"), collapse = "+")))
if (CALIBRATION == "poststratify") {
  design <- postStratify(design, formula_of(margins[[1]]), margins[[1]])
} else if (CALIBRATION == "rake") {
  design <- rake(design, lapply(margins, formula_of), margins)
}
calibrated <- CALIBRATION != "none"

# --------------------------------------------------------------------------- intervals
t_of <- function(df) ifelse(df > 0, qt((1 + LEVEL) / 2, pmax(df, 1)), NA)
share_interval <- function(p, se, df, n_valid, n_rows) {
  a <- 1 - LEVEL
  if (is.na(p)) return(c(NA, NA))
  if (p <= 0 || p >= 1) {  # Clopper-Pearson of x = p n among n valid answers
    x <- p * n_valid
    low <- if (x <= 0) 0 else qbeta(a / 2, x, n_valid - x + 1)
    high <- if (x >= n_valid) 1 else qbeta(1 - a / 2, x + 1, n_valid - x)
    return(c(low, high))
  }
  if (df <= 0) return(c(NA, NA))
  if (se <= 0) return(c(p, p))
  t <- t_of(df)
  switch(CI_METHOD,
    logit = , xlogit = plogis(qlogis(p) + c(-1, 1) * t * se / (p * (1 - p))),
    asin = sin(pmin(pmax(asin(sqrt(p)) + c(-1, 1) * t * se / (2 * sqrt(p * (1 - p))), 0),
                    pi / 2))^2,
    mean = p + c(-1, 1) * t * se,
    beta = {
      n_eff <- p * (1 - p) / se^2 * (qt(a / 2, n_rows - 1) / qt(a / 2, df))^2
      c(qbeta(a / 2, n_eff * p, n_eff * (1 - p) + 1), qbeta(1 - a / 2, n_eff * p + 1, n_eff * (1 - p)))
    },
    wilson = {  # the app's design-effect Wilson interval (not in survey): Kish's n* = p(1-p)/se^2
      n_eff <- p * (1 - p) / se^2
      centre <- (p + t^2 / (2 * n_eff)) / (1 + t^2 / n_eff)
      centre + c(-1, 1) * t * sqrt(p * (1 - p) / n_eff + t^2 / (4 * n_eff^2)) / (1 + t^2 / n_eff)
    },
    stop("unknown interval method ", CI_METHOD))
}

# ------------------------------------------------------------------- every node of a domain
node_rows <- function(domain, label, nodes) {
  sub <- design[domain, ]
  df_domain <- if (any(domain)) degf(sub) else 0
  w <- weights(design)
  num_tot <- colSums(num[domain, , drop = FALSE] * w[domain])
  den_tot <- colSums(den[domain, , drop = FALSE] * w[domain])
  theta <- ifelse(den_tot > 0, num_tot / den_tot, NA)
  out <- list()
  for (i in nodes) {
    code <- tree$node[i]
    lin <- linear[[code]]
    used <- which(lin$c != 0)
    share <- tree$aggregate[i] %in% c("item", "pooled") && tree$range_low[i] == ""
    if (tree$aggregate[i] == "item") {
      k <- used[1]
      ok <- domain & den[, k] == 1
      n <- sum(ok)
      if (n == 0) {
        est <- NA; se <- NA; df <- 0
      } else {
        ssub <- design[ok, ]
        m <- svymean(as.formula(paste0("~num_", base_names[k])), ssub)
        est <- as.numeric(coef(m)); se <- as.numeric(SE(m)); df <- degf(ssub)
      }
      n_valid <- n
      n_rows <- if (calibrated) n_all else n
    } else {
      reach <- rowSums(den[, leaves_under(i), drop = FALSE]) > 0
      n <- sum(domain & reach)
      df <- df_domain
      n_valid <- sum(domain)
      n_rows <- if (calibrated) n_all else sum(domain)
      if (any(is.na(theta[used])) || !any(domain)) {
        est <- NA; se <- NA
      } else {
        u <- rep(0, n_all)
        for (b in used) u <- u + lin$c[b] * (num[, b] - theta[b] * den[, b]) / den_tot[b]
        u[!domain] <- 0
        # A calibrated design keeps every row in a subset (weight 0 outside); others drop them.
        sub$variables$u_lin <- if (nrow(sub$variables) == n_all) u else u[domain]
        est <- lin$c0 + sum(lin$c[used] * theta[used])
        se <- as.numeric(SE(svytotal(~u_lin, sub)))
      }
    }
    ci <- if (is.na(est)) c(NA, NA) else if (share) {
      share_interval(est, se, df, n_valid, n_rows)
    } else {
      est + c(-1, 1) * t_of(df) * se
    }
    out[[length(out) + 1]] <- data.frame(domain = label, node = code, estimate = est, se = se,
                                         ci_low = ci[1], ci_high = ci[2], df = df, n = n)
  }
  do.call(rbind, out)
}

# ------------------------------------------------------------------------------ PAR points
round_decimal <- function(x, decimals, rounding) {
  # Decimal rounding of the shortest decimal text of x, as the app does: a value a hair below
  # a tie in binary (9.117 stored as 9.11699999...) is the tie it was written as.
  v <- x * 10^decimals
  nudge <- 1e-9 * max(1, abs(v))
  r <- switch(rounding,
    half_up = floor(v + 0.5 + nudge),
    down = floor(v + nudge),
    half_even = {
      f <- floor(v + nudge)
      if (abs(v - f - 0.5) <= nudge) f + (f %% 2) else floor(v + 0.5)
    },
    stop("unknown rounding ", rounding))
  r / 10^decimals
}
par <- read_text_csv("anh_xa_cchc.csv")

# -------------------------------------------------------------------------------- results
rows <- list(node_rows(keep, "scope", seq_len(nrow(tree))))
for (agency in sort(unique(dat$agency[keep]))) {
  nodes <- match(unique(par$node), tree$node)
  if (length(nodes) == 0) break
  rows[[length(rows) + 1]] <- node_rows(keep & dat$agency %in% agency, agency, nodes)
}
result <- do.call(rbind, rows)
result$par_set <- ""; result$par_criterion <- ""
result$max_points <- NA; result$index_percent <- NA; result$par_points <- NA
par_rows <- list()
for (r in seq_len(nrow(result))) {
  if (result$domain[r] == "scope") next
  for (j in which(par$node == result$node[r])) {
    if (is.na(result$estimate[r]) || result$n[r] == 0) next
    pr <- result[r, ]
    pct <- 100 * pr$estimate / as_num(par$index_max[j])
    if (par$percent_decimals[j] != "") {
      pct <- round_decimal(pct, as.integer(par$percent_decimals[j]), par$rounding[j])
    }
    pr$par_set <- par$par_set[j]; pr$par_criterion <- par$criterion[j]
    pr$max_points <- as_num(par$max_points[j]); pr$index_percent <- pct
    pr$par_points <- round_decimal(pct * pr$max_points / 100, as.integer(par$decimals[j]),
                                   par$rounding[j])
    par_rows[[length(par_rows) + 1]] <- pr
  }
}
result <- rbind(result[result$domain == "scope", ], do.call(rbind, par_rows))
fmt <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
written <- result
for (col in c("estimate", "se", "ci_low", "ci_high", "max_points", "index_percent",
              "par_points")) written[[col]] <- fmt(result[[col]])
write.csv(written, "ket_qua_R.csv", row.names = FALSE, fileEncoding = "UTF-8")

# ----------------------------------------------------------------------------- comparison
app <- read_text_csv("ket_qua_ung_dung.csv")
key <- function(d) paste(d$domain, d$node, d$par_set, d$par_criterion, sep = "|")
rk <- key(result); ak <- key(app)
problems <- character(0)
if (!setequal(rk, ak) || anyDuplicated(ak)) {
  problems <- c(problems, paste("rows differ:", paste(setdiff(union(rk, ak), intersect(rk, ak)),
                                                    collapse = ", ")))
}
worst <- 0
for (k in intersect(rk, ak)) {
  r <- result[match(k, rk), ]; a <- app[match(k, ak), ]
  for (col in c("estimate", "se", "ci_low", "ci_high", "df", "n", "index_percent",
                "par_points")) {
    x <- as.numeric(r[[col]]); y <- as_num(a[[col]])
    if (is.na(x) && is.na(y)) next
    diff <- if (is.na(x) || is.na(y)) Inf else abs(x - y)
    worst <- max(worst, diff)
    if (diff > TOLERANCE) problems <- c(problems, sprintf("%s %s: R %s, app %s", k, col,
                                                          fmt(x), a[[col]]))
  }
}
cat(sprintf("%d rows compared (%d index nodes, %d PAR points); largest difference %.3g\n",
            length(intersect(rk, ak)), sum(result$domain == "scope"),
            sum(result$par_criterion != ""), worst))
if (length(problems)) {
  cat("KHÔNG KHỚP / MISMATCH (tolerance ", TOLERANCE, "):\n", paste0("  ", problems, "\n"),
      sep = "")
  quit(status = 1)
}
cat("KHỚP / AGREE: every figure of the app agrees with R's survey package within", TOLERANCE,
    "\n")
