// Command etcd runs a single-member etcd for the local control plane.
// It embeds the etcd server release that kube-apiserver itself depends on,
// so the toolchain builds from one module and one dependency graph.
package main

import (
	"flag"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	// Flag names match the etcd binary's own, so the local environment can
	// start either this program or a released etcd found on PATH.
	dataDir := flag.String("data-dir", "", "directory for etcd data (required)")
	clientURL := flag.String("listen-client-urls", "http://127.0.0.1:2379", "client URL")
	peerURL := flag.String("listen-peer-urls", "http://127.0.0.1:2380", "peer URL")
	flag.String("advertise-client-urls", "", "accepted for compatibility; the client URL is advertised")
	flag.String("initial-advertise-peer-urls", "", "accepted for compatibility; the peer URL is advertised")
	flag.String("initial-cluster", "", "accepted for compatibility; a single member is always used")
	flag.String("name", "default", "member name")
	noFsync := flag.Bool("unsafe-no-fsync", true, "skip fsync (test data is disposable)")
	flag.Parse()
	if *dataDir == "" {
		log.Fatal("--data-dir is required")
	}
	cu, err := url.Parse(*clientURL)
	if err != nil {
		log.Fatalf("--listen-client-url: %v", err)
	}
	pu, err := url.Parse(*peerURL)
	if err != nil {
		log.Fatalf("--listen-peer-url: %v", err)
	}

	cfg := embed.NewConfig()
	cfg.Dir = *dataDir
	cfg.Name = "default"
	cfg.ListenClientUrls = []url.URL{*cu}
	cfg.AdvertiseClientUrls = []url.URL{*cu}
	cfg.ListenPeerUrls = []url.URL{*pu}
	cfg.AdvertisePeerUrls = []url.URL{*pu}
	cfg.InitialCluster = cfg.Name + "=" + pu.String()
	// Test data is disposable: skipping fsync makes a local control plane
	// several times faster on slow disks.
	cfg.UnsafeNoFsync = *noFsync
	cfg.LogLevel = "warn"

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		log.Fatalf("start etcd: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
		log.Printf("etcd ready on %s", cu)
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		log.Fatal("etcd did not become ready within 60s")
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Printf("received %s, stopping", s)
	case err := <-e.Err():
		log.Printf("etcd failed: %v", err)
	}
	e.Close()
}
