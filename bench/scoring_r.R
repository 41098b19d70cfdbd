# R survey reference timing for the scoring benchmark (not a test).
#
# Usage: Rscript bench/scoring_r.R DATA.csv OUT.json ITEM [ITEM ...]
#
# For each ITEM, the satisfied share (codes 4, 5) among valid answers (1..5) per agency, as an
# analyst writes it with R's survey package:
#   svyby(~I(item %in% c(4,5)), ~agency, subset(design, item %in% 1:5), svyciprop,
#         vartype = c("se", "ci"), method = "logit")
# and the design svydesign(id = ~psu, strata = ~stratum, weights = ~weight).
# R takes seconds per item on a million rows, so the benchmark runs a sample of items and
# extrapolates; the times of each item are written so the extrapolation can be checked.

suppressPackageStartupMessages({
  library(survey)
  library(data.table)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3) stop("usage: scoring_r.R DATA.csv OUT.json ITEM [ITEM ...]")
data_path <- args[1]
out_path <- args[2]
items <- args[-(1:2)]

t0 <- proc.time()[["elapsed"]]
# Every column's type stated: none guessed from a sample of the rows.
types <- c(stratum = "integer", psu = "integer", agency = "character", weight = "numeric")
types[items] <- "integer"
d <- as.data.frame(fread(data_path, select = types))
t_read <- proc.time()[["elapsed"]] - t0

# CPU time (user + system) beside elapsed time: the benchmark machine is shared.
cpu <- function() {
  p <- proc.time()
  p[["user.self"]] + p[["sys.self"]]
}

t0 <- proc.time()[["elapsed"]]
c0 <- cpu()
design <- svydesign(id = ~psu, strata = ~stratum, weights = ~weight, data = d)
t_design <- proc.time()[["elapsed"]] - t0
c_design <- cpu() - c0

per_item <- list()
per_item_cpu <- list()
rows <- list()
for (item in items) {
  t0 <- proc.time()[["elapsed"]]
  c0 <- cpu()
  valid <- !is.na(d[[item]]) & d[[item]] %in% 1:5
  f <- as.formula(sprintf("~I(`%s` %%in%% c(4, 5))", item))
  r <- svyby(f, ~agency, subset(design, valid), svyciprop,
             vartype = c("se", "ci"), method = "logit")
  per_item[[item]] <- proc.time()[["elapsed"]] - t0
  per_item_cpu[[item]] <- cpu() - c0
  # svyby keeps svyciprop's logit interval in ci_l / ci_u (confint() would give Wald).
  rows[[item]] <- data.frame(
    item = item,
    row.names = NULL,
    agency = as.character(r$agency),
    estimate = as.numeric(coef(r)),
    se = as.numeric(SE(r)),
    ci_low = as.numeric(r$ci_l),
    ci_high = as.numeric(r$ci_u)
  )
}

result <- list(
  r_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  rows = nrow(d),
  read_seconds = t_read,
  design_seconds = t_design,
  design_cpu_seconds = c_design,
  item_seconds = per_item,
  item_cpu_seconds = per_item_cpu,
  estimates = do.call(rbind, unname(rows))
)
writeLines(toJSON(result, auto_unbox = TRUE, digits = NA, dataframe = "rows"), out_path)
