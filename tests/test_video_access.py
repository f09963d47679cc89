"""Video exports on the server: render passes, the download route, the export request."""

from __future__ import annotations

import numpy as np
import pytest

import access.passes
from access.passes import HEADER, SCHEME, issue_pass
from access.users import UserStore
from tests.conftest import PASSWORD, finished_outage
from tests.test_roles import callback_request, output_of, post_callback
from video.jobs import VideoJobs, videos_dir
from video.render import VideoSpec, encode


@pytest.fixture(scope="module")
def outage(app, city_name):
    return finished_outage(app, city_name, "CAS-F006", "Feeder 6 trips")


def jobs_of(app) -> VideoJobs:
    return VideoJobs(videos_dir(app.server.config["MADINA_SCENARIO_DB"]))


def finished_job(app, owner: str, run_id: str = "0123456789ab"):
    """A job of ``owner`` with its MP4 encoded (two real frames), and its GIF."""
    jobs = jobs_of(app)
    spec = VideoSpec(view=f"scenario={run_id}", first=0, last=1, fps=2, width=320, height=240)
    job = jobs.create(spec, owner=owner, base_url="http://127.0.0.1:1/", name="test clip")
    frames = (np.full((240, 320, 3), k * 100, dtype=np.uint8) for k in range(2))
    encode(frames, jobs.folder(job.id), job.stem, fps=2)
    return job


def headers_for(app, username: str) -> dict[str, str]:
    user = UserStore(app.server.config["MADINA_USER_DB"]).get(username)
    return {HEADER: SCHEME + issue_pass(app.server.config["SECRET_KEY"], user)}


def test_a_render_pass_is_its_account_and_nothing_forged_passes(app, accounts, monkeypatch):
    job = finished_job(app, "salma")
    url = f"/api/videos/{job.id}/mp4"
    assert app.server.test_client().get(url).status_code == 403  # the public
    assert app.server.test_client().get(url, headers=headers_for(app, "salma")).status_code == 200

    token = headers_for(app, "salma")[HEADER][len(SCHEME) :]
    user = UserStore(app.server.config["MADINA_USER_DB"]).get("salma")
    forged = {
        "tampered": SCHEME + token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
        "another key": SCHEME + issue_pass("another secret key " * 3, user),
        "no scheme": token,
        "another scheme": "Basic " + token,
        "garbage": SCHEME + "x" * 300,
    }
    for what, header in forged.items():
        response = app.server.test_client().get(url, headers={HEADER: header})
        assert response.status_code == 403, what
    monkeypatch.setattr(access.passes, "PASS_SECONDS", -1)  # every pass has expired
    expired = app.server.test_client().get(url, headers=headers_for(app, "salma"))
    assert expired.status_code == 403


def test_a_password_change_voids_the_passes_issued_before(app, accounts):
    users = UserStore(app.server.config["MADINA_USER_DB"])
    if users.get("karim") is None:
        users.add("karim", PASSWORD, "planner")
    job = finished_job(app, "karim")
    url = f"/api/videos/{job.id}/gif"
    before = headers_for(app, "karim")
    assert app.server.test_client().get(url, headers=before).status_code == 200
    users.set_password("karim", PASSWORD + " again")
    assert app.server.test_client().get(url, headers=before).status_code == 403
    assert app.server.test_client().get(url, headers=headers_for(app, "karim")).status_code == 200


def test_videos_go_to_the_account_that_asked_for_them(app, client_as):
    job = finished_job(app, "salma")
    salma, mayor, public = client_as("planner"), client_as("decision-maker"), client_as("public")
    mp4 = salma.get(f"/api/videos/{job.id}/mp4")
    assert mp4.status_code == 200 and mp4.mimetype == "video/mp4"
    assert f"filename={job.stem}.mp4" in mp4.headers["Content-Disposition"]
    assert mp4.data[4:8] == b"ftyp"  # an MP4 container
    gif = salma.get(f"/api/videos/{job.id}/gif")
    assert gif.mimetype == "image/gif" and gif.data[:6] == b"GIF89a"
    assert public.get(f"/api/videos/{job.id}/mp4").status_code == 403
    assert mayor.get(f"/api/videos/{job.id}/mp4").status_code == 404  # not hers
    for path, status, named in [
        (f"/api/videos/{job.id}/avi", 404, "unknown video format"),
        ("/api/videos/..etc/mp4", 404, "not a video job id"),
        ("/api/videos/00000000000000aa/mp4", 404, "no video job"),
    ]:
        response = salma.get(path)
        assert response.status_code == status and named in response.get_json()["error"], path
    unfinished = jobs_of(app).create(
        job.spec, owner="salma", base_url="http://127.0.0.1:1/", name="still rendering"
    )
    response = salma.get(f"/api/videos/{unfinished.id}/mp4")
    assert response.status_code == 409 and "still rendering" in response.get_json()["error"]


def test_an_export_request_is_checked_then_recorded(app, as_role, outage):
    from pages.video_export import start_export

    view = {"query": f"scenario={outage.id}&layers=districts,roads", "clicks": 1}
    with as_role("planner"):
        job_id, status = start_export(view, [70, 75], 4, "640x360")
        for bad_view, frames, size, named in [
            ({"query": "layers=roads", "clicks": 2}, [0, 3], "640x360", "put a run on the map"),
            (view, [0, 3], "4k", "unknown size"),
            (view, [9, 3], "640x360", "first (9)"),
            ({"query": "scenario=ffffffffffff", "clicks": 3}, [0, 3], "640x360", "no scenario"),
        ]:
            _, error = start_export(bad_view, frames, 4, size)
            assert named in str(error.children), (named, error.children)
    job = jobs_of(app).get(job_id)
    assert job.owner == "salma" and job.base_url == "http://localhost:80/"
    assert (job.spec.first, job.spec.last, job.spec.fps) == (70, 75, 4)
    assert (job.spec.width, job.spec.height) == (640, 360)
    assert "6 frames" in status and "Feeder 6 trips" in status


def test_the_public_cannot_ask_the_server_to_film(app, client_as, outage):
    body = callback_request(
        app,
        output_of(app, "vx-job"),
        {"vx-view.data": {"query": f"scenario={outage.id}", "clicks": 1}},
        {"vx-frames.value": [0, 1], "vx-fps.value": 2, "vx-size.value": "640x360"},
    )
    assert post_callback(client_as("public"), body).status_code == 403
    allowed = post_callback(client_as("decision-maker"), body)
    assert allowed.status_code == 200 and "Filming 2 frames" in allowed.get_data(as_text=True)


def test_the_renderer_goes_to_this_server_whatever_host_a_request_names(app, monkeypatch):
    from pages.video_export import RENDER_URL_ENV, render_url

    monkeypatch.delenv(RENDER_URL_ENV, raising=False)
    forged = {"Host": "evil.example:666"}
    with app.server.test_request_context("/", headers=forged):
        assert render_url() == "http://localhost:80/"  # the server's socket, not the Host
    everywhere = {"SERVER_NAME": "0.0.0.0", "SERVER_PORT": "8050"}
    with app.server.test_request_context("/", headers=forged, environ_overrides=everywhere):
        assert render_url() == "http://127.0.0.1:8050/"
    monkeypatch.setenv(RENDER_URL_ENV, "http://twin.internal:9000/")
    with app.server.test_request_context("/", headers=forged):
        assert render_url() == "http://twin.internal:9000/"
