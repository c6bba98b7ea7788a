#!/usr/bin/env bash
# Installs the real Bicep CLI from NuGet (Azure.Bicep.CommandLine.linux-x64, version pinned in
# scripts/bicep/bicep.csproj) into .tools/nuget (git-ignored, kept between runs) and prints the binary's path.
# Needs the .NET SDK (dotnet) and the NuGet registry; downloads from nowhere else.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's/.*Azure.Bicep.CommandLine.linux-x64" Version="\[\([0-9.]*\)\]".*/\1/p' scripts/bicep/bicep.csproj)
bin=".tools/nuget/azure.bicep.commandline.linux-x64/$version/tools/bicep"
if [ ! -x "$bin" ]; then
  dotnet restore scripts/bicep/bicep.csproj --packages .tools/nuget --nologo -v quiet >&2
  chmod +x "$bin"
fi
"$bin" --version >&2
echo "$PWD/$bin"
