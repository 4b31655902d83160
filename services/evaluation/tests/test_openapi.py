"""The gateway's merged OpenAPI document carries the evaluation service's public paths."""

from __future__ import annotations

from cpd_local.stack import Stack


async def test_merged_openapi_has_the_evaluation_paths(stack: Stack) -> None:
    resp = await stack.gateway.get("/openapi.json")
    assert resp.status_code == 200, resp.text
    paths = resp.json()["paths"]
    for path, method in [
        ("/v1/activities", "post"),
        ("/v1/activities/{activity_id}", "patch"),
        ("/v1/activities/{activity_id}/cancel", "post"),
        ("/v1/activities/{activity_id}/participants", "get"),
        ("/v1/activities/{activity_id}/attendance", "put"),
        ("/v1/activities/{activity_id}/participants/{participant_id}/impact-report", "put"),
        ("/v1/cpd-records/me", "get"),
        ("/v1/cpd-records/{person_id}", "get"),
        ("/v1/cpd-records/{person_id}/record.csv", "get"),
        ("/v1/cpd-records/{person_id}/xapi", "get"),
        ("/v1/entitlement", "put"),
        ("/v1/evaluations", "post"),
        ("/v1/evaluations", "get"),
        ("/v1/evaluations/{plan_id}", "patch"),
        ("/v1/evaluations/{plan_id}", "delete"),
        ("/v1/evaluations/{plan_id}/measures", "post"),
        ("/v1/evaluations/{plan_id}/measures/{measure_id}", "patch"),
        ("/v1/measures/{measure_id}/observations", "post"),
        ("/v1/measures/{measure_id}/observations", "get"),
        ("/v1/evaluations/{plan_id}/audit-rounds", "put"),
        ("/v1/evaluations/{plan_id}/perception", "get"),
        ("/v1/evaluations/{plan_id}/lesson-studies", "put"),
        ("/v1/evaluations/{plan_id}/case-pupils", "get"),
        ("/v1/evaluations/{plan_id}/impact", "get"),
    ]:
        assert method in paths.get(path, {}), f"{method.upper()} {path} missing"
    # The upload documents both bodies it takes.
    upload = paths["/v1/measures/{measure_id}/observations"]["post"]["requestBody"]["content"]
    assert set(upload) == {"application/json", "text/csv"}
    assert "observations" in upload["application/json"]["schema"]["properties"]
