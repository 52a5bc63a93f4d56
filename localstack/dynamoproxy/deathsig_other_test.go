//go:build !linux

package dynamoproxy

import "os/exec"

func setParentDeathSignal(*exec.Cmd) {}
