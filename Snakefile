from snakemake.utils import min_version

min_version("9.27")


# `hzflow cron` and `hzflow plan` pass the operator's file with --configfile;
# config/config.yaml (every default, commented) is read only by a bare `snakemake`.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/import.smk"
include: "rules/resolve.smk"
include: "rules/tools.smk"
include: "rules/sessions.smk"
include: "rules/summarize.smk"
include: "rules/report.smk"
include: "rules/audit.smk"


rule all:
    input:
        all_targets(),
