# The provenance action's image. GitHub runs it with /github/workspace as the working directory
# and as root, so there is no USER and no WORKDIR here (GitHub's rules for container actions).
ARG BASE_IMAGE=python:3.11.14-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git reads the commit and the changed files of the checkout.
RUN if ! command -v git >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*; \
    fi

COPY requirements.txt /action/requirements.txt
RUN python3 -m venv /action/venv && /action/venv/bin/pip install --no-deps -r /action/requirements.txt

COPY provenance /action/provenance
COPY entrypoint.py /action/entrypoint.py
RUN /action/venv/bin/python -m compileall -q /action/provenance

ENTRYPOINT ["/action/venv/bin/python", "/action/entrypoint.py"]
