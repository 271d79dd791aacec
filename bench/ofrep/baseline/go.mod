module github.com/voiceassist/gateway/bench/ofrep/baseline

go 1.26
