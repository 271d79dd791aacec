module github.com/voiceassist/gateway/bench/bare

go 1.26
