#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, DESE EA PLAN maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: verify_report
short_description: Write the post-deploy verification report (JSON, JUnit) and summarise the checks
version_added: "1.0.0"
description:
  - Takes the list of check results gathered by the C(dese.ea_plan.verify) role, writes C(report.json) and
    C(junit.xml) into C(<dest>/<run_id>/) and points C(<dest>/latest) at that directory.
  - Returns the console table and one line per failing check so the play can fail naming each of them.
  - A check whose status is not C(pass), C(fail) or C(skip) counts as a failure.
  - Runs on the controller (C(delegate_to: localhost)); writes nothing in check mode.
options:
  checks:
    description: Check results, each a dict with C(name), C(group), C(status), C(value), C(threshold), C(detail).
    type: list
    elements: dict
    required: true
  dest:
    description: Directory that holds one sub-directory per run and the C(latest) symlink.
    type: path
    required: true
  run_id:
    description: Name of this run's sub-directory (a UTC timestamp such as C(20260101T120000Z)).
    type: str
    required: true
  meta:
    description: Report metadata (date, deployed_by, verified_by, url, app_version, environment, ...).
    type: dict
    default: {}
author:
  - DESE EA PLAN maintainers
"""

EXAMPLES = r"""
- name: Write the verification report
  dese.ea_plan.verify_report:
    checks: "{{ __verify_results }}"
    dest: "{{ playbook_dir }}/../reports/verify"
    run_id: "20260101T120000Z"
    meta:
      deployed_by: ops
  delegate_to: localhost
  register: __verify_report
"""

RETURN = r"""
report_dir:
  description: Directory the report files were written to.
  returned: always
  type: str
  sample: /srv/dese/reports/verify/20260101T120000Z
checks:
  description: The normalised checks, in input order.
  returned: always
  type: list
  elements: dict
summary:
  description: Counts per status and the total.
  returned: always
  type: dict
  sample: {"pass": 30, "fail": 1, "skip": 2, "total": 33}
result:
  description: C(fail) when any check failed, C(incomplete) when none failed but some skipped, else C(pass).
  returned: always
  type: str
table:
  description: The console summary table, one line per element.
  returned: always
  type: list
  elements: str
failures:
  description: One line per failing check with its measured value and threshold.
  returned: always
  type: list
  elements: str
"""

import json
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dese.ea_plan.plugins.module_utils.verify import (
    failure_lines,
    junit_xml,
    normalize_checks,
    render_table,
    report_document,
)


def _write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.rename(tmp, path)


def _point_latest(dest, run_id):
    link = os.path.join(dest, "latest")
    tmp = link + ".tmp"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(run_id, tmp)
    os.rename(tmp, link)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            checks=dict(type="list", elements="dict", required=True),
            dest=dict(type="path", required=True),
            run_id=dict(type="str", required=True),
            meta=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    run_id = module.params["run_id"]
    if not re.match(r"^[A-Za-z0-9._-]+$", run_id) or run_id in (".", "..", "latest"):
        module.fail_json(msg="run_id %r must be a plain directory name such as 20260101T120000Z" % run_id)
    try:
        checks = normalize_checks(module.params["checks"])
    except ValueError as exc:
        module.fail_json(msg="invalid check list: %s" % exc)

    report_dir = os.path.join(module.params["dest"], run_id)
    document = report_document(checks, module.params["meta"])
    result = dict(
        changed=False,
        report_dir=report_dir,
        checks=checks,
        summary=document["summary"],
        result=document["result"],
        table=render_table(checks),
        failures=failure_lines(checks),
    )
    if module.check_mode:
        module.exit_json(**result)
    try:
        if not os.path.isdir(report_dir):
            os.makedirs(report_dir)
        _write(os.path.join(report_dir, "report.json"), json.dumps(document, indent=2, sort_keys=True) + "\n")
        _write(os.path.join(report_dir, "junit.xml"),
               junit_xml(checks, timestamp=module.params["meta"].get("date")))
        _point_latest(module.params["dest"], run_id)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot write the report into %s: %s" % (report_dir, exc), **result)
    result["changed"] = True
    module.exit_json(**result)


if __name__ == "__main__":
    main()
