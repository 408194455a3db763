# The image Gradescope builds from the autograder zip, for trying the zip before uploading it
# (docs/gradescope.md). The build context is the directory holding the zip, not the repository:
#
#   nngrade gradescope -o build/autograder.zip
#   docker build -f Dockerfile -t nngrade-autograder build/
#   docker run --rm -v "$PWD/submission:/autograder/submission:ro" \
#       -v "$PWD/results:/autograder/results" nngrade-autograder
#
# As on Gradescope: the zip's contents go to /autograder/source, setup.sh runs once (as root)
# at build time, and each container run executes /autograder/run_autograder, which writes
# /autograder/results/results.json.
FROM python:3.11-slim

ARG BUNDLE=autograder.zip
COPY ${BUNDLE} /tmp/autograder.zip
RUN mkdir -p /autograder/source /autograder/submission /autograder/results \
    && python -m zipfile -e /tmp/autograder.zip /autograder/source \
    && rm /tmp/autograder.zip \
    && cp /autograder/source/run_autograder /autograder/run_autograder \
    && chmod 755 /autograder/run_autograder /autograder/source/run_autograder \
    && cd /autograder/source \
    && bash ./setup.sh

WORKDIR /autograder
CMD ["/autograder/run_autograder"]
