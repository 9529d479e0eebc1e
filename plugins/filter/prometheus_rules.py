# -*- coding: utf-8 -*-
# Copyright: DESE EA PLAN platform team
# Apache License 2.0 (see galaxy.yml)
"""Normalise operator-supplied Prometheus rule files for the prometheus role."""

from __future__ import annotations

import yaml

try:
    from ansible.errors import AnsibleFilterError
    from ansible.utils.display import Display
except ImportError:  # pragma: no cover - unit tests import the plugin without Ansible's runtime
    AnsibleFilterError = ValueError
    Display = None

DOCUMENTATION = r"""
name: prometheus_rules
short_description: Parse a Prometheus rule file, unwrapping Kubernetes PrometheusRule documents
description:
  - "Takes the text of a rule file and returns a mapping C({groups: [...]}) that C(promtool check rules) accepts."
  - A Kubernetes C(PrometheusRule) document (prometheus-operator CRD) is unwrapped to its C(spec.groups), with a
    warning; several YAML documents in one file are merged.
  - Raises an error naming the source file when the text is not YAML or holds no rule groups.
options:
  _input:
    description: Text of the rule file.
    type: str
    required: true
  source:
    description: Name of the file, used in warnings and errors.
    type: str
    default: rule file
author: DESE EA PLAN platform team
"""

EXAMPLES = r"""
- name: Read an operator rule file
  ansible.builtin.set_fact:
    rules: "{{ lookup('ansible.builtin.file', path) | dese.ea_plan.prometheus_rules(path) | to_nice_yaml }}"
"""

RETURN = r"""
_value:
  description: Mapping with the key C(groups) (list of rule groups).
  type: dict
"""


def _warn(message: str) -> None:
    if Display is not None:
        Display().warning(message)


def prometheus_rules(text, source="rule file"):
    """Return ``{"groups": [...]}`` from a plain rule file or PrometheusRule document(s)."""
    try:
        documents = [doc for doc in yaml.safe_load_all(str(text)) if doc is not None]
    except yaml.YAMLError as exc:
        raise AnsibleFilterError(f"{source}: not valid YAML: {exc}") from exc
    groups = []
    for index, doc in enumerate(documents):
        if not isinstance(doc, dict):
            raise AnsibleFilterError(f"{source}: document {index + 1} is not a mapping")
        if doc.get("kind") == "PrometheusRule":
            name = (doc.get("metadata") or {}).get("name", "?")
            spec_groups = (doc.get("spec") or {}).get("groups")
            if not isinstance(spec_groups, list):
                raise AnsibleFilterError(f"{source}: PrometheusRule {name} has no spec.groups list")
            _warn(f"{source}: Kubernetes PrometheusRule '{name}' unwrapped to its spec.groups "
                  "(metadata, namespace and labels are ignored outside Kubernetes)")
            groups.extend(spec_groups)
        elif "groups" in doc:
            if not isinstance(doc["groups"], list):
                raise AnsibleFilterError(f"{source}: 'groups' is not a list")
            groups.extend(doc["groups"])
        else:
            raise AnsibleFilterError(f"{source}: document {index + 1} has neither 'groups' nor kind PrometheusRule")
    if not groups:
        raise AnsibleFilterError(f"{source}: no rule groups found")
    return {"groups": groups}


class FilterModule:
    """Prometheus rule file filters."""

    def filters(self):
        return {"prometheus_rules": prometheus_rules}
