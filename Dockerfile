# The provenance action's image. GitHub runs it with /github/workspace as the working directory
# and as root, so there is no USER and no WORKDIR here (GitHub's rules for container actions).
# BASE_IMAGE must be Debian-based with Python 3.11 or newer.
ARG BASE_IMAGE=python:3.11.13-slim-bookworm

# git reads the commit and the changed files. Its package pulls in perl and man pages (~100 MB);
# the commands we run (rev-parse, diff, merge-base, symbolic-ref) are built into the one binary,
# which needs only libc, zlib and pcre2, all in the base. So only that binary is kept.
FROM ${BASE_IMAGE} AS git
# The base image's tag fixes the Debian release; pinning the package's exact version would break the
# build each time Debian's archive moves on. Only the binary is kept (below).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="provenance-action" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.description="Auditable provenance for CI test runs"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=git /usr/bin/git /usr/bin/git

# Exactly the pinned requirements. pip and setuptools, and the packages' own test suites, leave the
# venv once the install is done: nothing at run time imports them.
COPY requirements.txt /action/requirements.txt
RUN python3 -m venv /action/venv \
    && /action/venv/bin/pip install --no-deps -r /action/requirements.txt \
    && /action/venv/bin/pip uninstall --yes pip setuptools \
    && find /action/venv -depth -type d -name tests -path '*/site-packages/*' -exec rm -rf {} +

COPY entrypoint.py /action/entrypoint.py
COPY provenance /action/provenance
RUN /action/venv/bin/python -m compileall -q /action/provenance /action/entrypoint.py

ENTRYPOINT ["/action/venv/bin/python", "/action/entrypoint.py"]
