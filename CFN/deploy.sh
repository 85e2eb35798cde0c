#!/usr/bin/env bash
# Terraform steps of the build (CFN/buildspec.yml). Run from the repository root.
#   deploy.sh install-terraform   install TF_VERSION after checking its SHA-256
#   deploy.sh plan                init the S3 backend, write terraform/tfplan
#   deploy.sh apply               apply terraform/tfplan, only on DEPLOY_BRANCH
set -euo pipefail

PROJECT_NAME="${PROJECT_NAME:-lakeport}"
DEPLOY_BRANCH="${DEPLOY_BRANCH:-main}"
TF_DIR="terraform"

install_terraform() {
  : "${TF_VERSION:?set TF_VERSION}"
  local base="https://releases.hashicorp.com/terraform/${TF_VERSION}"
  local zip="terraform_${TF_VERSION}_linux_amd64.zip"
  local work
  work="$(mktemp -d)"
  curl -fsSL -o "${work}/${zip}" "${base}/${zip}"
  curl -fsSL -o "${work}/SHA256SUMS" "${base}/terraform_${TF_VERSION}_SHA256SUMS"
  (cd "${work}" && grep " ${zip}\$" SHA256SUMS | sha256sum -c -)
  unzip -o -q "${work}/${zip}" -d /usr/local/bin
  terraform version
}

current_branch() {
  local ref="${CODEBUILD_WEBHOOK_HEAD_REF:-${CODEBUILD_SOURCE_VERSION:-}}"
  echo "${ref#refs/heads/}"
}

plan() {
  : "${TARGET_ENVIRONMENT:?set TARGET_ENVIRONMENT (dev, test, staging or prod)}"
  local region="${AWS_REGION:-${AWS_DEFAULT_REGION:?set AWS_REGION}}"
  cp "${TF_DIR}/backend.tf.example" "${TF_DIR}/backend.tf"
  terraform -chdir="${TF_DIR}" init -input=false \
    -backend-config="env/${TARGET_ENVIRONMENT}.backend.hcl" \
    -backend-config="bucket=${TF_STATE_BUCKET:?set TF_STATE_BUCKET}" \
    -backend-config="dynamodb_table=${TF_LOCK_TABLE:?set TF_LOCK_TABLE}" \
    -backend-config="key=${PROJECT_NAME}/${TARGET_ENVIRONMENT}/terraform.tfstate" \
    -backend-config="region=${region}"
  terraform -chdir="${TF_DIR}" plan -input=false -out=tfplan \
    -var-file="env/${TARGET_ENVIRONMENT}.tfvars" \
    -var="project=${PROJECT_NAME}" \
    -var="region=${region}"
}

apply() {
  local branch
  branch="$(current_branch)"
  if [[ "${branch}" != "${DEPLOY_BRANCH}" ]]; then
    echo "build of '${branch:-unknown}', not of '${DEPLOY_BRANCH}': plan only, nothing applied"
    return 0
  fi
  terraform -chdir="${TF_DIR}" apply -input=false tfplan
}

case "${1:-}" in
  install-terraform) install_terraform ;;
  plan) plan ;;
  apply) apply ;;
  *) echo "usage: $0 install-terraform|plan|apply" >&2; exit 2 ;;
esac
