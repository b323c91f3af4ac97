package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/sftp"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// copyToRemote uploads CopyToRemote's source over SFTP (concurrent writes), with upstream's rules
// and error messages:
//
//	source | remotePath is a dir | remotePath missing | remotePath is a file
//	dir    | remotePath/dir      | remotePath/dir     | error
//	dir/   | remotePath/<each>   | remotePath/dir     | error
//	file   | remotePath/file     | remotePath         | remotePath (overwritten)
//	text   | error               | remotePath         | remotePath (overwritten)
//
// Parent directories are created.
func copyToRemote(ctx context.Context, p retryPolicy, props resource.PropertyMap, log copyLogger) error {
	conn, err := parseConnection(props["connection"])
	if err != nil {
		return err
	}
	remotePath, _ := str(props, "remotePath")
	src, _, _ := peel(props["source"])
	var localPath, text string
	isText := false
	switch {
	case src.IsAsset() && src.AssetValue().IsText():
		isText, text = true, src.AssetValue().Text
	case src.IsAsset():
		localPath = src.AssetValue().Path
	case src.IsArchive():
		localPath = src.ArchiveValue().Path
	default:
		return errors.New("source must be a file asset, a text asset or a path archive")
	}
	if isText {
		log.debug(fmt.Sprintf("Creating file: %s:%s from text asset", *conn.host, remotePath))
	} else {
		log.debug(fmt.Sprintf("Creating file: %s:%s from local file %s", *conn.host, remotePath, localPath))
	}
	client, err := conn.dial(ctx, p, log.status)
	if err != nil {
		return err
	}
	defer client.Close()
	sc, err := sftp.NewClient(client, sftp.UseConcurrentWrites(true))
	if err != nil {
		return err
	}
	defer sc.Close()
	if isText {
		return copyText(sc, text, remotePath)
	}
	return sftpCopy(sc, localPath, remotePath)
}

// copyFile is the deprecated CopyFile: one file to exactly remotePath, no directories created.
func copyFile(ctx context.Context, p retryPolicy, props resource.PropertyMap, log copyLogger) error {
	conn, err := parseConnection(props["connection"])
	if err != nil {
		return err
	}
	localPath, _ := str(props, "localPath")
	remotePath, _ := str(props, "remotePath")
	log.debug(fmt.Sprintf("Creating file: %s:%s from local file %s", *conn.host, remotePath, localPath))
	src, err := os.Open(localPath)
	if err != nil {
		return err
	}
	defer src.Close()
	client, err := conn.dial(ctx, p, log.status)
	if err != nil {
		return err
	}
	defer client.Close()
	sc, err := sftp.NewClient(client)
	if err != nil {
		return err
	}
	defer sc.Close()
	dst, err := sc.Create(remotePath)
	if err != nil {
		return err
	}
	_, err = dst.ReadFrom(src)
	return err
}

type copyLogger struct{ status, debug func(string) }

// remoteStat returns nil, nil when p does not exist.
func remoteStat(sc *sftp.Client, p string) (fs.FileInfo, error) {
	info, err := sc.Stat(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("failed to stat remote path %s: %w", p, err)
	}
	return info, nil
}

func copyText(sc *sftp.Client, content, dst string) error {
	st, err := remoteStat(sc, dst)
	if err != nil {
		return err
	}
	if st != nil && st.IsDir() {
		return fmt.Errorf("remote path %s is a directory; when using a text asset, remotePath must be a file path", dst)
	}
	if err := sc.MkdirAll(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("failed to create parent directories for %s: %w", dst, err)
	}
	f, err := sc.Create(dst)
	if err != nil {
		return fmt.Errorf("failed to create remote file %s: %w", dst, err)
	}
	defer f.Close()
	if _, err := f.Write([]byte(content)); err != nil {
		return fmt.Errorf("failed to write text content to remote path %s: %w", dst, err)
	}
	return nil
}

func sftpCopy(sc *sftp.Client, src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	info, err := f.Stat()
	f.Close()
	if err != nil {
		return err
	}
	st, err := remoteStat(sc, dst)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		if st != nil && st.IsDir() {
			dst = filepath.Join(dst, filepath.Base(src))
		} else if st == nil {
			if err := sc.MkdirAll(filepath.Dir(dst)); err != nil {
				return fmt.Errorf("failed to create parent directories for %s: %w", dst, err)
			}
		}
		return copyLocalFile(sc, src, dst)
	}
	if st == nil {
		if err := sc.MkdirAll(dst); err != nil {
			return fmt.Errorf("failed to create remote directory %s: %w", dst, err)
		}
	}
	if !strings.HasSuffix(src, "/") {
		dst = filepath.Join(dst, filepath.Base(src))
		st, err := remoteStat(sc, dst)
		if err != nil {
			return err
		}
		if st != nil && !st.IsDir() {
			return fmt.Errorf("remote path %s exists but is not a directory", dst)
		}
		if st == nil {
			if err := sc.Mkdir(dst); err != nil {
				return fmt.Errorf("failed to create remote directory %s: %w", dst, err)
			}
		}
	}
	return fs.WalkDir(os.DirFS(src), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if !d.IsDir() {
			return copyLocalFile(sc, filepath.Join(src, rel), target)
		}
		st, err := remoteStat(sc, target)
		if err != nil {
			return err
		}
		if st == nil {
			if err := sc.Mkdir(target); err != nil {
				return fmt.Errorf("failed to create remote directory %s: %w", target, err)
			}
		} else if !st.IsDir() {
			return fmt.Errorf("remote path %s exists but is not a directory", target)
		}
		return nil
	})
}

func copyLocalFile(sc *sftp.Client, src, dst string) error {
	local, err := os.Open(src)
	if err != nil {
		return err
	}
	defer local.Close()
	remote, err := sc.Create(dst)
	if err != nil {
		return fmt.Errorf("failed to create remote file %s: %w", dst, err)
	}
	defer remote.Close()
	if _, err := remote.ReadFrom(local); err != nil {
		return fmt.Errorf("failed to copy file %s to remote path %s: %w", src, dst, err)
	}
	return nil
}
