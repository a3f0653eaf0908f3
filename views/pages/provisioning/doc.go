// Package provisioning renders Access > Directory Services > User Provisioning.
package provisioning
