"""A fleet's hub whose config cannot be used: a job that fails every run, saying why.

The other hubs run as usual; this hub's failure shows in the exit status,
in the job's log and in `hzflow --fleet F status`, until its config is mended.
"""


rule check_hub:
    output:
        "fleet/checked/{hub}.json",
    log:
        f"fleet/logs/check_hub/{{hub}}.{RUN_STAMP}.log",
    localrule: True
    conda:
        "../envs/hzflow.yaml"
    params:
        hzflow=HZFLOW,
        fleet=RUN.config_file,
    shell:
        "{params.hzflow} --fleet {params.fleet:q} --hub {wildcards.hub} check-config "
        "--marker {output} > {log} 2>&1"
