from snakemake.utils import min_version

min_version("9.27")


# The operator's config comes from --configfile FILE or $HZFLOW_CONFIG (never a sample): one
# hub's config or a fleet file; its work_dir is Snakemake's working directory (rules/common.smk).
include: "rules/common.smk"
include: "rules/import.smk"
include: "rules/resolve.smk"
include: "rules/tools.smk"
include: "rules/sessions.smk"
include: "rules/summarize.smk"
include: "rules/report.smk"
include: "rules/audit.smk"
include: "rules/fleet.smk"


onstart:
    hold_hub_lock()


rule all:
    input:
        all_targets(),
