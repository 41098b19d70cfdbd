# Reference values for the app's estimates of a probability sample of dossiers (issue 15.3).
#
#   Rscript tests/scoring/r/make_sample_estimates_fixture.R   (from the repository root)
#
# Reads the tables exactly as the app sees them: tests/test_sample_estimates_r.py builds a
# campaign in the app's database (selected dossiers, dispositions, answers through spent
# dossier codes, frame counts) and, with WRITE_SAMPLE_FIXTURE=1, writes
#   tests/scoring/fixtures/sample_estimates_dossiers.csv  every selected dossier: desk, agency,
#                                    procedure_field, channel, on_time, stratum, probability, N
#                                    (returned dossiers of the stratum in the frame),
#                                    disposition, responded, class (agency | channel), answers
#   tests/scoring/fixtures/sample_estimates_frame.csv     frame cells: desk, agency,
#                                    procedure_field, channel, on_time, returned, selected
# and writes
#   tests/scoring/fixtures/sample_estimates_weights.csv   each design's final weights
#   tests/scoring/fixtures/sample_estimates_expected.csv  every node of the SIPAS 2023 tree
#                                    (tree_reference.R), overall and by agency
# Designs (the eligible dossiers' respondents; ineligible dossiers leave the sample):
#   raking  svydesign(ids=~1, strata=~stratum, probs=~probability, fpc=~N)
#           -> postStratify(~class, totals of 1/pi over the eligible selected dossiers)
#           -> calibrate(~agency + procedure_field + channel, frame totals, calfun="raking",
#                        bounds=c(0.5, 2))
#           -> trimWeights(lower = 0.2 * mean(w), upper = 2 * mean(w))
#   linear  the same design, one nonresponse class for every dossier,
#           -> calibrate(~agency + procedure_field, frame totals)   (GREG, no bounds, no trim)
source("tests/scoring/r/tree_reference.R")
out_dir <- "tests/scoring/fixtures"
options(survey.lonely.psu = "adjust")
setup <- tree_setup()

read <- function(name) read.csv(file.path(out_dir, name), stringsAsFactors = FALSE,
                                check.names = FALSE)
dossiers <- read("sample_estimates_dossiers.csv")
frame <- read("sample_estimates_frame.csv")
eligible <- dossiers[dossiers$disposition != "ineligible", ]
eligible$one_class <- "*"
resp <- add_indicators(eligible[eligible$responded == 1, ], setup)
rownames(resp) <- NULL

drawn <- svydesign(ids = ~1, strata = ~stratum, probs = ~probability, fpc = ~N, data = resp)
class_totals <- function(column) {
  totals <- aggregate(list(Freq = 1 / eligible$probability), list(eligible[[column]]), sum)
  names(totals)[1] <- column
  totals
}
frame_totals <- function(formula) {
  cells <- frame[rep(seq_len(nrow(frame)), frame$returned), ]
  colSums(model.matrix(formula, cells))
}

by_class <- postStratify(drawn, ~class, class_totals("class"))
raking <- calibrate(by_class, ~agency + procedure_field + channel,
                    frame_totals(~agency + procedure_field + channel), calfun = "raking",
                    bounds = c(0.5, 2))
w <- weights(raking)
raking <- trimWeights(raking, lower = 0.2 * mean(w), upper = 2 * mean(w))
stopifnot(any(w > 2 * mean(w)), any(w < 0.2 * mean(w)))  # the trimming binds

one_class <- postStratify(drawn, ~one_class, class_totals("one_class"))
linear <- calibrate(one_class, ~agency + procedure_field, frame_totals(~agency + procedure_field))
designs <- list(raking = raking, linear = linear)

write.csv(as.data.frame(lapply(designs, function(d) num(weights(d)))),
          file.path(out_dir, "sample_estimates_weights.csv"), row.names = FALSE)
rows <- lapply(names(designs), function(d) tree_rows(d, designs[[d]], resp, setup, "agency"))
expected <- do.call(rbind, rows)
write.csv(expected, file.path(out_dir, "sample_estimates_expected.csv"), row.names = FALSE,
          na = "")
cat("read", nrow(dossiers), "selected dossiers,", nrow(resp), "respondents; wrote",
    nrow(expected), "tree rows for", length(designs), "designs\n")
